"""Stripe one-time charge, against what Stripe answers: a card that needs the customer until it
is set up (4000002500003155), and amounts refused before or by Stripe, on the step."""

from __future__ import annotations

import pytest

from billing.actions.one_time_charge import ConfigForm
from billing.models import PaymentLink
from tests.automation.conftest import charge_step, publish, saved_customer
from tests.factories import ContactFactory


def test_a_card_needing_authentication_until_set_up_gets_the_payment_link(
    workspace, connection, stripe_client, trigger_run, mailoutbox
):
    contact = ContactFactory(
        workspace=workspace,
        email="jane@example.com",
        stripe_customer_id=saved_customer(stripe_client, "pm_card_authenticationRequiredOnSetup"),
    )
    publish(workspace, [charge_step(connection, send_link_when_declined=True)])

    run = trigger_run(workspace, contact=contact)

    assert (run.status, run.error_code) == ("failed", "PAYMENT_REQUIRED")
    assert "a payment link was e-mailed to jane@example.com" in run.error_message
    assert PaymentLink.objects.get().amount == 4999
    assert len(mailoutbox) == 1


def test_an_amount_below_the_accounts_minimum_once_converted_fails_the_step_with_stripes_words(
    workspace, connection, contact, trigger_run
):
    publish(workspace, [charge_step(connection, amount=50, currency="jpy")])

    run = trigger_run(workspace, contact=contact)

    assert (run.status, run.error_code) == ("failed", "VALIDATION_ERROR")
    step = run.steps.get(step_key="charge")
    assert "Amount must convert to at least $0.50 usd." in step.error_message
    assert "amount_too_small" in step.error_message


@pytest.mark.parametrize(
    ("amount", "currency", "message"),
    [
        ("0.49", "usd", "Stripe's minimum charge in USD is $0.50."),
        ("49", "jpy", "Stripe's minimum charge in JPY is ¥50."),
        ("1.255", "tnd", "Stripe requires TND amounts to end in 0"),
        ("1000000", "usd", "The amount is above Stripe's maximum of $999,999.99."),
    ],
)
def test_the_builder_refuses_what_stripe_would(workspace, connection, amount, currency, message):
    form = ConfigForm(
        data={
            "connection": str(connection.uuid),
            "customer_id": "cus_123",
            "amount": amount,
            "currency": currency,
        },
        workspace=workspace,
    )
    assert not form.is_valid()
    assert form.errors["amount"][0].startswith(message)
