"""Stripe one-time charge against the sandbox: amounts in every currency, declines, errors."""

from __future__ import annotations

import pytest

from billing.actions.one_time_charge import ConfigForm
from billing.models import Payment, PaymentLink
from tests.automation.conftest import charge_step, publish, saved_customer
from tests.factories import ContactFactory

# (currency, typed, minor units): zero- and three-decimal currencies of stripe-test-data.md
CURRENCIES = [
    ("usd", "49.99", 4999),
    ("eur", "10", 1000),
    ("jpy", "500", 500),
    ("krw", "5000", 5000),
    ("clp", "1500", 1500),
    ("vnd", "25000", 25000),
    ("kwd", "1.250", 1250),
    ("bhd", "2.500", 2500),
    ("jod", "0.750", 750),
    ("omr", "3.000", 3000),
    ("tnd", "12.340", 12340),
]


@pytest.mark.parametrize(("currency", "typed", "minor"), CURRENCIES)
def test_a_typed_amount_charges_exactly_its_minor_units(
    workspace, connection, contact, stripe_client, trigger_run, currency, typed, minor
):
    form = ConfigForm(
        data={
            "connection": str(connection.uuid),
            "customer_id": "{{ contact.stripe_customer_id }}",
            "amount": typed,
            "currency": currency,
        },
        workspace=workspace,
    )
    assert form.is_valid(), form.errors
    assert form.to_config()["amount"] == minor
    publish(
        workspace,
        [
            {
                "key": "charge",
                "type": "stripe_one_time_charge",
                "name": "Charge",
                "config": form.to_config(),
            }
        ],
    )
    run = trigger_run(workspace, contact=contact)
    assert run.status == "succeeded", run.error_message
    intent = stripe_client.v1.payment_intents.list().data[0]
    assert (intent.amount, intent.currency) == (minor, currency)


@pytest.mark.parametrize(
    ("currency", "typed", "message"),
    [
        ("jpy", "5.5", "no decimals"),
        ("usd", "1.999", "at most 2 decimals"),
        ("kwd", "1.2345", "at most 3 decimals"),
        ("kwd", "1.255", "end in 0"),
        ("usd", "0.49", "minimum"),
        ("usd", "0", "greater than zero"),
        ("usd", "1000000", "maximum"),
        ("usd", "ten", "Enter an amount"),
    ],
)
def test_a_bad_amount_is_refused_next_to_the_field(workspace, connection, currency, typed, message):
    form = ConfigForm(
        data={
            "connection": str(connection.uuid),
            "customer_id": "cus_x",
            "amount": typed,
            "currency": currency,
        },
        workspace=workspace,
    )
    assert not form.is_valid()
    assert message in " ".join(form.errors["amount"])


def test_a_variable_amount_is_read_in_major_units(
    workspace, connection, contact, stripe_client, trigger_run
):
    publish(workspace, [charge_step(connection, amount="{{ contact.custom.lead_value }}")])
    run = trigger_run(workspace, contact=contact)
    assert run.status == "succeeded", run.error_message
    assert stripe_client.v1.payment_intents.list().data[0].amount == 15000


def test_a_stripe_amount_variable_can_be_in_minor_units(
    workspace, connection, contact, stripe_client, trigger_run
):
    step = charge_step(
        connection, amount="{{ trigger.data.object.amount }}", amount_in_minor_units=True
    )
    publish(workspace, [step])
    run = trigger_run(workspace, contact=contact, trigger={"data": {"object": {"amount": 2500}}})
    assert run.status == "succeeded", run.error_message
    assert stripe_client.v1.payment_intents.list().data[0].amount == 2500


def test_a_bad_variable_amount_is_validation_error_without_calling_stripe(
    workspace, connection, trigger_run, sandbox, stripe_client
):
    contact = ContactFactory(
        workspace=workspace,
        stripe_customer_id=saved_customer(stripe_client),
        custom_fields={"lead_value": "a lot"},
    )
    publish(workspace, [charge_step(connection, amount="{{ contact.custom.lead_value }}")])
    run = trigger_run(workspace, contact=contact)
    assert (run.status, run.error_code) == ("failed", "VALIDATION_ERROR")
    assert sandbox.control.requests(path="/v1/payment_intents") == []


def test_a_declined_card_is_payment_required_and_not_retried(
    workspace, connection, stripe_client, trigger_run, sandbox
):
    contact = ContactFactory(
        workspace=workspace, stripe_customer_id=saved_customer(stripe_client, "4000000000000341")
    )
    publish(workspace, [charge_step(connection)])
    run = trigger_run(workspace, contact=contact)
    assert (run.status, run.error_code) == ("failed", "PAYMENT_REQUIRED")
    assert "Your card was declined" in run.error_message
    assert len(sandbox.control.requests(path="/v1/payment_intents", method="POST")) == 1


def test_a_card_that_needs_the_customer_stops_with_that_reason(
    workspace, connection, stripe_client, trigger_run
):
    contact = ContactFactory(
        workspace=workspace, stripe_customer_id=saved_customer(stripe_client, "4000002760003184")
    )
    publish(workspace, [charge_step(connection)])
    run = trigger_run(workspace, contact=contact)
    assert (run.status, run.error_code) == ("failed", "PAYMENT_REQUIRED")
    assert "needs the customer to authenticate" in run.error_message
    payment = Payment.objects.get()  # the ledger keeps the refused attempt
    assert (payment.status, payment.failure_code) == ("failed", "authentication_required")


def test_a_card_that_needs_the_customer_gets_a_payment_link_when_the_step_says_so(
    workspace, connection, stripe_client, trigger_run, mailoutbox, sandbox
):
    contact = ContactFactory(
        workspace=workspace,
        email="jane@example.com",
        stripe_customer_id=saved_customer(stripe_client, "4000002760003184"),
    )
    publish(workspace, [charge_step(connection, send_link_when_declined=True)])
    run = trigger_run(workspace, contact=contact)
    assert (run.status, run.error_code) == ("failed", "PAYMENT_REQUIRED")
    assert "a payment link was e-mailed to jane@example.com" in run.error_message
    link = PaymentLink.objects.get()
    assert (link.amount, link.contact, link.origin) == (
        4999,
        contact,
        f"run:{run.uuid}:step:charge",
    )
    (message,) = mailoutbox
    assert link.get_absolute_url() in message.body


def test_a_successful_charge_is_in_the_ledger(workspace, connection, contact, trigger_run):
    publish(workspace, [charge_step(connection)])
    run = trigger_run(workspace, contact=contact)
    payment = Payment.objects.get()
    assert (payment.status, payment.source, payment.amount) == ("succeeded", "workflow", 4999)
    assert payment.idempotency_key == f"run:{run.uuid}:step:charge"
    assert payment.stripe_payment_intent_id == run.steps.get().outputs["id"]


def test_a_customer_without_a_saved_card_fails_with_a_clear_reason(
    workspace, connection, stripe_client, trigger_run, sandbox
):
    customer = stripe_client.v1.customers.create(params={"email": "nocard@example.com"})
    contact = ContactFactory(workspace=workspace, stripe_customer_id=customer.id)
    publish(workspace, [charge_step(connection)])
    run = trigger_run(workspace, contact=contact)
    assert (run.status, run.error_code) == ("failed", "PAYMENT_REQUIRED")
    assert "no saved card" in run.error_message
    assert sandbox.control.requests(path="/v1/payment_intents", method="POST") == []


def test_a_revoked_key_is_auth_expired_and_marks_the_connection(
    workspace, connection, contact, trigger_run, sandbox
):
    publish(workspace, [charge_step(connection)])
    sandbox.control.revoke_key(connection.secret_key)
    run = trigger_run(workspace, contact=contact)
    assert (run.status, run.error_code) == ("failed", "AUTH_EXPIRED")
    connection.refresh_from_db()
    assert connection.health == "auth_failed"


def test_a_missing_customer_is_not_found(workspace, connection, trigger_run):
    contact = ContactFactory(workspace=workspace, stripe_customer_id="cus_doesNotExist")
    publish(workspace, [charge_step(connection)])
    run = trigger_run(workspace, contact=contact)
    assert (run.status, run.error_code) == ("failed", "NOT_FOUND")


def test_a_test_run_on_a_live_account_sends_nothing(
    sandbox, workspace, trigger_run, django_capture_on_commit_callbacks
):
    from automation.engine import run_execute
    from automation.models import Run
    from integrations.services import connection_create_from_key

    secret, publishable, _ = sandbox.new_account(live=True)
    live = connection_create_from_key(
        workspace=workspace, secret_key=secret, publishable_key=publishable
    )
    customer = saved_customer(sandbox.client(secret))
    contact = ContactFactory(workspace=workspace, stripe_customer_id=customer)
    workflow = publish(workspace, [charge_step(live)])
    run = Run.objects.create(
        workspace=workspace,
        workflow=workflow,
        contact=contact,
        trigger_type="manual",
        cause="test:live",
        is_test=True,
        test_definition=workflow.definition,
    )
    run_execute(run_pk=run.pk)
    run.refresh_from_db()
    assert run.status == "succeeded"
    assert run.steps.get().outputs["status"] == "not_sent"
    assert sandbox.control.requests(path="/v1/payment_intents", method="POST") == []
