"""A real `qcluster` worker runs workflows; killing it mid-charge never charges twice.

Slow (a `qcluster` process per worker): `pytest -m "not slow"` leaves it out.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection as db
from django_q.conf import Conf

from automation.engine import stale_after
from automation.models import Run, StepRun
from automation.services.runs import runs_resume_stale, runs_start_for_trigger
from integrations.services import connection_create_from_key
from tests.automation.conftest import charge_step, publish, saved_customer
from tests.factories import ContactFactory

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT, RETRY = 4, 20  # seconds: a task is killed at TIMEOUT; the claim is stale after +5

pytestmark = pytest.mark.slow


def _database_url() -> str:
    data = db.settings_dict
    if data["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{data['NAME']}"
    user, host = data.get("USER") or "postgres", data.get("HOST") or "127.0.0.1"
    return f"postgres://{user}@{host}:{data.get('PORT') or 5432}/{data['NAME']}"


class Worker:
    """`manage.py qcluster` in its own process group, on this test's database and queue."""

    def __init__(
        self, sandbox_url: str, queue: str, *, processes: int = 1, log: Path | None = None
    ):
        self.log = log  # the cluster's output (django-q2 logs every task it takes), or nothing
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("PYTEST")},
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "ENV_FILE": "/nonexistent",
            "DEBUG": "1",
            "SECRET_KEY": django_settings.SECRET_KEY,
            "FERNET_KEYS": ",".join(django_settings.FERNET_KEYS),
            "DATABASE_URL": _database_url(),
            "STRIPE_API_BASE": sandbox_url,
            "Q_QUEUE": queue,
            "Q_WORKERS": str(processes),
            "Q_TIMEOUT": str(TIMEOUT),
            "Q_RETRY": str(RETRY),
            "WORKFLOW_RETRY_DELAYS": "0.2,0.2,0.2",
        }
        self.process: subprocess.Popen | None = None

    def start(self) -> Worker:
        out = open(self.log, "wb") if self.log else subprocess.DEVNULL  # noqa: SIM115
        try:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=self.env,
                start_new_session=True, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        finally:
            if self.log:
                out.close()
        return self

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def _wait(predicate, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _status(run: Run) -> str:
    return Run.objects.values_list("status", flat=True).get(pk=run.pk)


def _answered(sandbox, path: str, count: int) -> bool:
    """The sandbox has answered the first `count` POSTs to `path` (whoever was listening)."""
    posts = sandbox.control.requests(path=path, method="POST")
    return len(posts) >= count and all(p["status"] is not None for p in posts[:count])


def _age_claim(run: Run, by) -> None:
    """The run's claim as it is once `by` has passed (every process compares claimed_at with
    its own clock)."""
    claimed_at = Run.objects.values_list("claimed_at", flat=True).get(pk=run.pk)
    Run.objects.filter(pk=run.pk).update(claimed_at=claimed_at - by)


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_workflows_and_a_killed_one_never_charges_twice(
    sandbox, workspace, monkeypatch, settings
):
    secret, publishable, _ = sandbox.new_account(name="Acme Dental")
    conn = connection_create_from_key(
        workspace=workspace, secret_key=secret, publishable_key=publishable
    )
    stripe = sandbox.client(secret)
    contact = ContactFactory(workspace=workspace, stripe_customer_id=saved_customer(stripe))
    publish(workspace, [charge_step(conn)])
    queue = f"test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(Conf, "SYNC", False)  # enqueue for the real worker
    monkeypatch.setattr(Conf, "CLUSTER_NAME", queue)
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": TIMEOUT, "retry": RETRY}

    def fire(cause: str) -> Run:
        (run,) = runs_start_for_trigger(
            workspace=workspace, trigger_type="manual", trigger={"type": "manual"},
            cause=cause, contact=contact,
        )  # fmt: skip
        return run

    workers = [Worker(sandbox.url, queue).start()]
    try:
        first = fire("one")
        _wait(lambda: _status(first) == "succeeded", 60, "the worker to run the workflow")

        # The next charge hangs at Stripe; the worker dies while waiting for the answer.
        sandbox.control.inject_fault(method="POST", path="/v1/payment_intents", kind="delay",
                                     delay=2)  # fmt: skip
        second = fire("two")
        _wait(
            lambda: StepRun.objects.filter(run=second, attempts=1, status="running").exists()
            and len(sandbox.control.requests(path="/v1/payment_intents", method="POST")) == 2,
            30, "the second charge to reach Stripe",
        )  # fmt: skip
        workers[0].kill()
        assert _status(second) == "running"
        # Stripe finishes the charge the dead worker asked for; the answer reaches no one.
        _wait(lambda: _answered(sandbox, "/v1/payment_intents", 2), 30, "Stripe's answer")

        workers.append(Worker(sandbox.url, queue).start())
        assert runs_resume_stale() == 0  # a fresh claim is left to its worker
        # TIMEOUT + 5 s later the dead worker's claim is stale (instead of waiting them out).
        _age_claim(second, stale_after() + timedelta(seconds=1))
        assert runs_resume_stale() == 1  # the scheduled sweep
        _wait(lambda: _status(second) == "succeeded", 60, "the new worker to finish the run")
    finally:
        for worker in workers:
            worker.kill()

    intents = stripe.v1.payment_intents.list(params={"limit": 100}).data
    assert len(intents) == 2  # one per run: the resumed step replayed the first request
    step = StepRun.objects.get(run=second)
    assert step.attempts == 2 and step.outputs["id"] in {i.id for i in intents}
    posts = sandbox.control.requests(path="/v1/payment_intents", method="POST")
    keys = [
        p["idempotency_key"] for p in posts if p["idempotency_key"].startswith(f"run:{second.uuid}")
    ]
    assert len(keys) == 2 and len(set(keys)) == 1
