"""Scale-out: two `qcluster` processes (two worker processes each) take runs from one queue.

On the configuration under test: PostgreSQL + the Redis broker in CI's second pass (the
scale-out set-up of the README), SQLite + the ORM broker in the first. Every run is executed
exactly once (no task taken by both clusters, one Stripe charge per run, each step attempted
once) and none is lost (every run succeeded), and both clusters did part of the work.

Slow (two `qcluster` processes): `pytest -m "not slow"` leaves it out.
"""

from __future__ import annotations

import re
import time
import uuid

import pytest
from django_q.conf import Conf

from automation.models import Run, StepRun
from automation.services.runs import runs_start_for_trigger
from integrations.services import connection_create_from_key
from tests.automation.conftest import charge_step, publish, saved_customer
from tests.automation.test_worker import Worker, _wait
from tests.factories import ContactFactory

RUNS = 40
TASK = re.compile(r"processing (\S+) 'automation\.tasks\.execute_run'")
PROCESSES = 2  # worker processes per cluster

pytestmark = pytest.mark.slow


def _listening(log) -> bool:
    """The cluster's log says its pusher is taking tasks from the queue and all its worker
    processes are ready (django-q2's INFO lines)."""
    text = log.read_text(errors="replace") if log.exists() else ""
    return "pushing tasks at" in text and text.count("ready for work at") >= PROCESSES


def _alive(clusters, logs) -> bool:
    for cluster in clusters:
        assert cluster.process.poll() is None, "a cluster died:\n" + _output(logs)
    return True


def _taken(log) -> list[str]:
    """The django-q2 task names a cluster's log says it processed."""
    return TASK.findall(log.read_text(errors="replace")) if log.exists() else []


@pytest.mark.django_db(transaction=True)
def test_two_clusters_on_one_queue_run_every_run_exactly_once(sandbox, workspace, monkeypatch,
                                                              tmp_path):  # fmt: skip
    secret, publishable, _ = sandbox.new_account(name="Acme Dental")
    conn = connection_create_from_key(
        workspace=workspace, secret_key=secret, publishable_key=publishable
    )
    stripe = sandbox.client(secret)
    contacts = [
        ContactFactory(workspace=workspace, stripe_customer_id=saved_customer(stripe))
        for _ in range(4)
    ]
    publish(workspace, [charge_step(conn)], allow_reentry=True)
    queue = f"scale-{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(Conf, "SYNC", False)  # enqueue for the real workers
    monkeypatch.setattr(Conf, "CLUSTER_NAME", queue)
    logs = [tmp_path / "cluster-a.log", tmp_path / "cluster-b.log"]
    clusters = [Worker(sandbox.url, queue, processes=PROCESSES, log=log).start() for log in logs]
    try:
        # Both clusters listen before the burst, so both get work.
        _wait(lambda: _alive(clusters, logs) and all(_listening(log) for log in logs), 60,
              "both clusters to listen")  # fmt: skip
        runs = [
            run.pk
            for n in range(RUNS)
            for run in runs_start_for_trigger(
                workspace=workspace, trigger_type="manual", trigger={"type": "manual"},
                cause=f"lead:{n}", contact=contacts[n % len(contacts)],
            )
        ]  # fmt: skip
        assert len(runs) == RUNS
        deadline = time.monotonic() + 180
        while Run.objects.filter(pk__in=runs, status="succeeded").count() < RUNS:
            assert _alive(clusters, logs)
            assert time.monotonic() < deadline, _summary(runs) + _output(logs)
            time.sleep(0.5)
    finally:
        for cluster in clusters:
            cluster.kill()

    taken = [_taken(log) for log in logs]
    assert all(taken), f"each cluster took work: {[len(t) for t in taken]}"
    everything = taken[0] + taken[1]
    assert len(everything) == len(set(everything)) == RUNS  # no task taken twice, none lost
    steps = StepRun.objects.filter(run_id__in=runs)
    assert steps.count() == RUNS and set(steps.values_list("attempts", flat=True)) == {1}
    intents = stripe.v1.payment_intents.list(params={"limit": 100}).data
    assert len(intents) == RUNS and {i.status for i in intents} == {"succeeded"}
    assert {i.id for i in intents} == {s.outputs["id"] for s in steps}
    posts = sandbox.control.requests(path="/v1/payment_intents", method="POST")
    assert len(posts) == RUNS  # no step was sent to Stripe a second time


def _summary(runs) -> str:
    statuses = Run.objects.filter(pk__in=runs).values_list("status", flat=True)
    return f"runs not finished in time: {sorted(statuses)}\n"


def _output(logs) -> str:
    return "".join(f"--- {log.name}\n{log.read_text(errors='replace')[-4000:]}" for log in logs
                   if log.exists())  # fmt: skip
