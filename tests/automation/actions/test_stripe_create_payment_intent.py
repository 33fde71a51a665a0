from __future__ import annotations

from tests.automation.conftest import publish


def _step(connection, **config):
    return {
        "key": "intent",
        "type": "stripe_create_payment_intent",
        "name": "Intent",
        "config": {
            "connection": str(connection.uuid),
            "amount": 2500,
            "currency": "eur",
            "description": "Deposit",
            "receipt_email": "{{ contact.email }}",
            "automatic_payment_methods_enabled": True,
            **config,
        },
    }


def test_it_creates_a_payment_intent_with_the_fields_of_the_taskjuice_action(
    workspace, connection, contact, trigger_run, sandbox
):
    publish(workspace, [_step(connection, customer="{{ contact.stripe_customer_id }}")])
    run = trigger_run(workspace, contact=contact)
    outputs = run.steps.get().outputs
    assert run.status == "succeeded", run.error_message
    assert outputs["id"].startswith("pi_") and outputs["client_secret"]
    assert (outputs["amount"], outputs["currency"]) == (2500, "eur")
    assert outputs["customer"] == contact.stripe_customer_id and outputs["created"] > 0
    (request,) = sandbox.control.requests(path="/v1/payment_intents", method="POST")
    assert request["params"]["receipt_email"] == "jane@example.com"
    assert request["params"]["automatic_payment_methods"]["enabled"] in ("true", True)


def test_a_non_positive_amount_is_refused_before_stripe(
    workspace, connection, trigger_run, sandbox
):
    publish(workspace, [_step(connection, amount="{{ trigger.amount }}")])
    run = trigger_run(workspace, trigger={"type": "manual", "amount": "-5"})
    assert (run.status, run.error_code) == ("failed", "VALIDATION_ERROR")
    assert sandbox.control.requests(path="/v1/payment_intents") == []
