"""The engine: runs execute their version's steps once, retry safely, never charge twice."""

from __future__ import annotations

import pytest

from automation.engine import run_execute
from automation.models import Run, StepRun
from automation.services.runs import run_retry_from_failed
from tests.automation.conftest import charge_step, publish


def _intents(stripe_client):
    return stripe_client.v1.payment_intents.list(params={"limit": 100}).data


def test_a_run_charges_the_saved_card_and_records_every_step(
    workspace, connection, contact, stripe_client, trigger_run, sandbox
):
    publish(workspace, [charge_step(connection)])
    run = trigger_run(workspace, contact=contact)
    assert run.status == "succeeded", (run.error_code, run.error_message)
    step = run.steps.get()
    assert step.status == "succeeded" and step.attempts == 1
    assert step.inputs["customer_id"] == contact.stripe_customer_id
    assert step.inputs["description"] == "Lead fee for Jane Cooper"
    assert step.outputs["id"].startswith("pi_") and step.outputs["status"] == "succeeded"
    assert step.idempotency_key == f"run:{run.uuid}:step:charge"
    (intent,) = _intents(stripe_client)
    assert (intent.id, intent.amount, intent.currency) == (step.outputs["id"], 4999, "usd")
    assert intent.customer == contact.stripe_customer_id
    (request,) = sandbox.control.requests(path="/v1/payment_intents", method="POST")
    assert request["idempotency_key"] == step.idempotency_key


def test_lost_response_and_429s_end_in_one_payment_with_one_key_and_body(
    workspace, connection, contact, stripe_client, trigger_run, sandbox
):
    # 5xx answers are replayed for their key: see test_server_errors.py.
    publish(workspace, [charge_step(connection)])
    for kind in ("lost_response", "429", "429"):
        sandbox.control.inject_fault(method="POST", path="/v1/payment_intents", kind=kind)
    run = trigger_run(workspace, contact=contact)
    assert run.status == "succeeded", (run.error_code, run.error_message)
    assert run.steps.get().attempts == 4
    assert len(_intents(stripe_client)) == 1
    requests = sandbox.control.requests(path="/v1/payment_intents", method="POST")
    assert len(requests) == 4
    assert {r["idempotency_key"] for r in requests} == {f"run:{run.uuid}:step:charge"}
    assert all(r["params"] == requests[0]["params"] for r in requests)


def test_retryable_errors_that_never_stop_fail_the_run_after_bounded_attempts(
    workspace, connection, contact, stripe_client, trigger_run, sandbox, settings
):
    publish(workspace, [charge_step(connection)])
    sandbox.control.inject_fault(method="POST", path="/v1/payment_intents", kind="500", count=10)
    run = trigger_run(workspace, contact=contact)
    step = run.steps.get()
    assert run.status == "failed" and run.error_code == "PROVIDER_ERROR"
    assert step.attempts == len(settings.WORKFLOW_RETRY_DELAYS) + 1
    assert _intents(stripe_client) == []


def test_a_finished_run_executed_again_changes_nothing(
    workspace, connection, contact, stripe_client, trigger_run, sandbox
):
    publish(workspace, [charge_step(connection)])
    run = trigger_run(workspace, contact=contact)
    Run.objects.filter(pk=run.pk).update(status="queued")  # the same task delivered twice
    run_execute(run_pk=run.pk)
    assert len(_intents(stripe_client)) == 1
    assert len(sandbox.control.requests(path="/v1/payment_intents", method="POST")) == 1


def test_a_running_run_is_not_taken_by_a_second_worker(
    workspace, connection, contact, trigger_run, sandbox
):
    publish(workspace, [charge_step(connection)])
    run = trigger_run(workspace, contact=contact)
    Run.objects.filter(pk=run.pk).update(status="running")  # another worker holds it
    StepRun.objects.all().delete()
    run_execute(run_pk=run.pk)
    assert not StepRun.objects.exists()


def test_retry_from_the_failed_step_never_repeats_the_finished_ones(
    workspace,
    connection,
    contact,
    stripe_client,
    trigger_run,
    sandbox,
    django_capture_on_commit_callbacks,
):
    refund = {
        "key": "refund",
        "type": "stripe_refund",
        "name": "Refund",
        "config": {
            "connection": str(connection.uuid),
            "payment": "{{ steps.charge.id }}",
            "amount": "",
            "currency": "usd",
        },
    }
    publish(workspace, [charge_step(connection), refund])
    sandbox.control.inject_fault(method="POST", path="/v1/refunds", kind="500", count=10)
    run = trigger_run(workspace, contact=contact)
    assert run.status == "failed" and run.steps.get(step_key="refund").status == "failed"
    sandbox.control.clear_faults()
    with django_capture_on_commit_callbacks(execute=True):
        run_retry_from_failed(run=run)
    run.refresh_from_db()
    assert run.status == "succeeded"
    assert len(sandbox.control.requests(path="/v1/payment_intents", method="POST")) == 1
    assert stripe_client.v1.refunds.list().data[0].payment_intent == _intents(stripe_client)[0].id


def test_editing_a_published_workflow_does_not_change_its_version(
    workspace, connection, contact, stripe_client, trigger_run
):
    workflow = publish(workspace, [charge_step(connection, amount=4999)])
    workflow.definition["steps"][0]["config"]["amount"] = 100000
    workflow.save()
    run = trigger_run(workspace, contact=contact)
    assert run.steps.get().outputs["amount"] == 4999


def test_unpublished_workflows_start_no_runs(
    workspace, connection, contact, django_capture_on_commit_callbacks
):
    from automation.services.runs import runs_start_for_trigger

    workflow = publish(workspace, [charge_step(connection)])
    workflow.status = "draft"
    workflow.save()
    with django_capture_on_commit_callbacks(execute=True):
        runs = runs_start_for_trigger(
            workspace=workspace, trigger_type="manual", trigger={}, cause="x", contact=contact
        )
    assert runs == []


def test_the_same_cause_starts_one_run(workspace, connection, contact, trigger_run, stripe_client):
    from automation.services.runs import runs_start_for_trigger

    publish(workspace, [charge_step(connection)])
    trigger_run(workspace, contact=contact, cause="form_submission:1")
    again = runs_start_for_trigger(
        workspace=workspace,
        trigger_type="manual",
        trigger={},
        cause="form_submission:1",
        contact=contact,
    )
    assert again == [] and Run.objects.count() == 1
    assert len(_intents(stripe_client)) == 1


def test_a_contact_may_not_enter_again_when_the_workflow_says_so(
    workspace, connection, contact, trigger_run, django_capture_on_commit_callbacks
):
    from automation.services.runs import runs_start_for_trigger

    publish(workspace, [charge_step(connection)], allow_reentry=False)
    trigger_run(workspace, contact=contact, cause="a")
    with django_capture_on_commit_callbacks(execute=True):
        again = runs_start_for_trigger(
            workspace=workspace, trigger_type="manual", trigger={}, cause="b", contact=contact
        )
    assert again == []


def test_an_unknown_variable_fails_the_step_with_validation_error_before_stripe(
    workspace, connection, contact, trigger_run, sandbox
):
    publish(workspace, [charge_step(connection, description="{{ contact.custom.nope }}")])
    run = trigger_run(workspace, contact=contact)
    assert (run.status, run.error_code) == ("failed", "VALIDATION_ERROR")
    assert "contact.custom.nope" in run.error_message
    assert sandbox.control.requests(path="/v1/payment_intents") == []


@pytest.mark.parametrize(
    ("limit", "field", "message"),
    [
        (4000, "max_amount_per_charge", "maximum per charge"),
        (9000, "max_amount_per_day", "daily maximum"),
    ],
)
def test_safety_limits_stop_a_charge_before_stripe(
    workspace, connection, contact, trigger_run, sandbox, limit, field, message
):
    publish(workspace, [charge_step(connection)], **{field: limit})
    first = trigger_run(workspace, contact=contact, cause="one")
    second = trigger_run(workspace, contact=contact, cause="two")
    failed = first if field == "max_amount_per_charge" else second
    assert failed.status == "failed" and failed.error_code == "VALIDATION_ERROR"
    assert message in failed.error_message
    calls = len(sandbox.control.requests(path="/v1/payment_intents", method="POST"))
    assert calls == (0 if field == "max_amount_per_charge" else 1)


def test_removing_a_connection_lists_its_workflows_and_they_stop_charging(
    workspace, connection, contact, owner, as_user, trigger_run, sandbox
):
    from django.urls import reverse

    workflow = publish(workspace, [charge_step(connection)])
    url = reverse("stripe_connection_remove", args=["acme", connection.uuid])
    page = as_user(owner).get(url).content.decode()
    assert "Pay per lead" in page and "will stop charging" in page
    as_user(owner).post(url)
    run = trigger_run(workspace, contact=contact)
    assert (run.status, run.error_code) == ("failed", "VALIDATION_ERROR")
    assert "connection of this step is gone" in run.error_message
    assert sandbox.control.requests(path="/v1/payment_intents", method="POST") == []
    assert workflow.runs.count() == 1
