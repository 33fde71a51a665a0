"""A 5xx from Stripe is replayed for its idempotency key, so a charge step looks for the
PaymentIntent by its row before trying again: it adopts the intent or moves to a new key."""

from __future__ import annotations

from billing.models import Payment
from tests.automation.conftest import charge_step, publish


def _intents(stripe_client):
    return stripe_client.v1.payment_intents.list(params={"limit": 100}).data


def _keys(sandbox):
    return [r["idempotency_key"] for r in sandbox.control.requests("/v1/payment_intents", "POST")]


def test_a_500_after_the_intent_was_made_adopts_it_and_charges_once(
    workspace, connection, contact, stripe_client, trigger_run, sandbox
):
    publish(workspace, [charge_step(connection)])
    sandbox.control.inject_fault(
        method="POST", path="/v1/payment_intents", kind="500_after_execution"
    )
    run = trigger_run(workspace, contact=contact)
    assert run.status == "succeeded", (run.error_code, run.error_message)
    step = run.steps.get()
    (intent,) = _intents(stripe_client)
    assert step.status == "succeeded" and step.outputs["id"] == intent.id
    payment = Payment.objects.get()
    assert payment.status == "succeeded" and payment.stripe_payment_intent_id == intent.id
    assert _keys(sandbox) == [f"run:{run.uuid}:step:charge"]


def test_a_fresh_500_keeps_the_key_and_the_request_is_sent_again(
    workspace, connection, contact, stripe_client, trigger_run, sandbox
):
    """A 500 that is not a replay proves nothing about another request with the key (a lost
    answer's, still executing): the key is kept, and the request, which never began, runs."""
    publish(workspace, [charge_step(connection)])
    sandbox.control.inject_fault(method="POST", path="/v1/payment_intents", kind="500")
    run = trigger_run(workspace, contact=contact)
    assert run.status == "succeeded", (run.error_code, run.error_message)
    assert run.steps.get().attempts == 2
    assert len(_intents(stripe_client)) == 1
    key = f"run:{run.uuid}:step:charge"
    assert _keys(sandbox) == [key, key]
    assert Payment.objects.get().status == "succeeded"


def test_a_replayed_500_with_nothing_made_moves_to_a_new_key_derived_from_the_row(
    workspace, connection, contact, stripe_client, trigger_run, sandbox
):
    """Stripe saved a 500 for the key and made nothing: the key can only replay it, so once a
    replay proves its execution is over and the look-up finds nothing, a new key is used."""
    publish(workspace, [charge_step(connection)])
    sandbox.control.inject_fault(method="POST", path="/v1/payment_intents", kind="500_in_execution")
    run = trigger_run(workspace, contact=contact)
    assert run.status == "succeeded", (run.error_code, run.error_message)
    assert len(_intents(stripe_client)) == 1
    key = f"run:{run.uuid}:step:charge"
    assert _keys(sandbox) == [key, key, f"{key}:attempt:2"]  # the second answer is the replay
    assert Payment.objects.get().status == "succeeded"


def test_a_500_whose_look_up_fails_too_is_resolved_on_the_next_attempt(
    workspace, connection, contact, stripe_client, trigger_run, sandbox
):
    publish(workspace, [charge_step(connection)])
    sandbox.control.inject_fault(
        method="POST", path="/v1/payment_intents", kind="500_after_execution"
    )
    sandbox.control.inject_fault(method="GET", path="/v1/payment_intents", kind="500")
    run = trigger_run(workspace, contact=contact)
    assert run.status == "succeeded", (run.error_code, run.error_message)
    assert run.steps.get().attempts == 2
    assert len(_intents(stripe_client)) == 1
    assert len(_keys(sandbox)) == 1  # the intent was found, never created again
    assert Payment.objects.get().status == "succeeded"


def test_a_500_forever_never_charges_twice(
    workspace, connection, contact, stripe_client, trigger_run, sandbox, settings
):
    publish(workspace, [charge_step(connection)])
    sandbox.control.inject_fault(method="POST", path="/v1/payment_intents", kind="500", count=100)
    run = trigger_run(workspace, contact=contact)
    assert run.status == "failed" and run.error_code == "PROVIDER_ERROR"
    keys = _keys(sandbox)
    assert keys == [f"run:{run.uuid}:step:charge"] * (len(settings.WORKFLOW_RETRY_DELAYS) + 1)
    assert _intents(stripe_client) == []
