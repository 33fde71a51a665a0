from __future__ import annotations

from billing.models import Payment
from tests.automation.conftest import charge_step, publish
from tests.reliability.conftest import deliver_all, webhook_endpoint


def _refund(connection, key="refund", **config):
    return {
        "key": key,
        "type": "stripe_refund",
        "name": "Refund",
        "config": {
            "connection": str(connection.uuid),
            "payment": "{{ steps.charge.id }}",
            "amount": "",
            "currency": "usd",
            **config,
        },
    }


def test_a_partial_refund_of_a_payment_intent(
    workspace, connection, contact, trigger_run, stripe_client
):
    publish(workspace, [charge_step(connection), _refund(connection, amount=1000)])
    run = trigger_run(workspace, contact=contact)
    assert run.status == "succeeded", run.error_message
    out = run.steps.get(step_key="refund").outputs
    assert out["amount"] == 1000 and out["status"] == "succeeded"
    charge = stripe_client.v1.charges.retrieve(
        run.steps.get(step_key="charge").outputs["latest_charge"]
    )
    assert charge.amount_refunded == 1000


def test_a_full_refund_by_charge_id(workspace, connection, contact, trigger_run, stripe_client):
    publish(
        workspace,
        [charge_step(connection), _refund(connection, payment="{{ steps.charge.latest_charge }}")],
    )
    run = trigger_run(workspace, contact=contact)
    assert run.status == "succeeded", run.error_message
    assert run.steps.get(step_key="refund").outputs["amount"] == 4999


def test_refunding_more_than_was_charged_is_validation_error(
    workspace, connection, contact, trigger_run
):
    publish(workspace, [charge_step(connection), _refund(connection, amount=999999)])
    run = trigger_run(workspace, contact=contact)
    assert (run.status, run.error_code) == ("failed", "VALIDATION_ERROR")


def test_without_amount_it_refunds_what_remains_and_the_ledger_agrees(
    workspace, connection, contact, trigger_run, stripe_client
):
    publish(
        workspace,
        [
            charge_step(connection, amount=2000),
            _refund(connection, amount=500),
            _refund(connection, key="rest", amount=""),
        ],
    )
    run = trigger_run(workspace, contact=contact)

    assert run.status == "succeeded", run.error_message
    assert run.steps.get(step_key="rest").outputs["amount"] == 1500
    charge = stripe_client.v1.charges.retrieve(
        run.steps.get(step_key="charge").outputs["latest_charge"]
    )
    assert (charge.amount_refunded, charge.refunded) == (2000, True)
    deliver_all(webhook_endpoint(connection), stripe_client)  # charge.refunded reaches it
    payment = Payment.objects.get(stripe_payment_intent_id=charge.payment_intent)
    assert payment.amount_refunded == 2000
