"""A workflow's daily maximum holds when runs charge at the same moment.

Two leads arrive while the first charge is still waiting for Stripe: the second run sees the
first one's amount as spent and stops before Stripe, so the two together never pass the
maximum. Threads with database connections of their own, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection as db

from automation.models import Run, StepRun
from automation.services.runs import runs_start_for_trigger
from integrations.services import connection_create_from_key
from tests.automation.conftest import charge_step, publish, saved_customer
from tests.factories import ContactFactory

INTENTS = "/v1/payment_intents"


def _fire(workspace, contact, cause: str, runs: list, errors: list) -> None:
    try:  # sync django-q2: the run executes when the trigger's transaction commits
        runs.extend(run.pk for run in runs_start_for_trigger(
            workspace=workspace, trigger_type="manual", trigger={"type": "manual"},
            cause=cause, contact=contact,
        ))  # fmt: skip
    except Exception as error:  # noqa: BLE001  (reported by the test)
        errors.append(error)
    finally:
        db.close()


@pytest.mark.django_db(transaction=True)
def test_a_charge_in_flight_counts_towards_the_daily_maximum(sandbox, workspace):
    secret, publishable, _ = sandbox.new_account(name="Acme Dental")
    conn = connection_create_from_key(
        workspace=workspace, secret_key=secret, publishable_key=publishable
    )
    stripe = sandbox.client(secret)
    contacts = [ContactFactory(workspace=workspace, stripe_customer_id=saved_customer(stripe))
                for _ in range(2)]  # fmt: skip
    publish(workspace, [charge_step(conn, amount=4999)], max_amount_per_day=6000)
    # The first charge takes 1.5 s at Stripe; the second lead arrives meanwhile.
    sandbox.control.inject_fault(method="POST", path=INTENTS, kind="delay", delay=1.5)
    runs, errors = [], []
    first = threading.Thread(target=_fire, args=(workspace, contacts[0], "one", runs, errors))
    first.start()
    deadline = time.monotonic() + 20
    while not StepRun.objects.filter(status="running").exists():
        assert time.monotonic() < deadline and first.is_alive(), errors
        time.sleep(0.05)
    _fire(workspace, contacts[1], "two", runs, errors)
    first.join(30)

    assert not errors and len(runs) == 2
    statuses = {r.cause: (r.status, r.error_message) for r in Run.objects.filter(pk__in=runs)}
    assert statuses["one"] == ("succeeded", "")
    assert statuses["two"][0] == "failed" and "daily maximum ($60.00)" in statuses["two"][1]
    assert len(sandbox.control.requests(path=INTENTS, method="POST")) == 1  # one charge only
    # The hold ends with the step: the succeeded step shows the charge, the failed one nothing.
    outputs = dict(StepRun.objects.filter(run_id__in=runs).values_list("run__cause", "outputs"))
    assert outputs["one"]["amount"] == 4999 and outputs["two"] == {}


def test_a_declined_charge_frees_its_hold(workspace, connection, stripe_client, trigger_run):
    publish(workspace, [charge_step(connection, amount=4999)], max_amount_per_day=6000,
            allow_reentry=True)  # fmt: skip
    declining = ContactFactory(
        workspace=workspace, stripe_customer_id=saved_customer(stripe_client, "4000000000000341")
    )
    paying = ContactFactory(workspace=workspace, stripe_customer_id=saved_customer(stripe_client))
    declined = trigger_run(workspace, contact=declining, cause="one")
    assert (declined.status, declined.error_code) == ("failed", "PAYMENT_REQUIRED")
    assert StepRun.objects.get(run=declined).outputs == {}
    assert trigger_run(workspace, contact=paying, cause="two").status == "succeeded"
