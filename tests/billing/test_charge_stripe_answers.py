"""Card on file, against what Stripe answers: a card that needs the customer until it is set up
(4000002500003155), and an amount only Stripe can refuse (below the account's minimum once
converted), shown next to the amount."""

from __future__ import annotations

from billing.models import Payment
from tests.billing.conftest import attach, card_on_file


def _set_up(stripe_client, contact, card: str) -> None:
    """What the customer does on a Stripe.js page: a SetupIntent, authenticated."""
    setup = stripe_client.v1.setup_intents.create(
        params={"customer": contact.stripe_customer_id, "usage": "off_session"}
    )
    stripe_client.v1.setup_intents.confirm(setup.id, params={"payment_method": card})
    stripe_client.raw_request("post", f"/v1/setup_intents/{setup.id}/_authenticate", success="true")


def test_a_card_needing_authentication_until_set_up_offers_a_prefilled_link(
    staff_client, contact, stripe_client
):
    card = attach(stripe_client, contact, "pm_card_authenticationRequiredOnSetup")

    response = card_on_file(staff_client, contact, card)

    assert "Send a payment link instead" in response.text
    assert "tab=link&amp;amount=49.99&amp;currency=USD&amp;description=Cleaning" in response.text
    payment = Payment.objects.get()
    assert (payment.status, payment.failure_code) == ("failed", "authentication_required")


def test_the_same_card_once_set_up_is_charged(staff_client, contact, stripe_client):
    card = attach(stripe_client, contact, "pm_card_authenticationRequiredOnSetup")
    _set_up(stripe_client, contact, card)

    response = card_on_file(staff_client, contact, card)

    assert "Payment succeeded" in response.text
    assert Payment.objects.get().status == "succeeded"


def test_an_amount_below_the_accounts_minimum_once_converted_is_shown_by_the_amount(
    staff_client, contact, stripe_client
):
    card = attach(stripe_client, contact, "pm_card_visa")

    response = card_on_file(staff_client, contact, card, amount="50", currency="JPY")

    form = response.context["form"]
    assert form.errors["amount"] == [
        "Amount must convert to at least $0.50 usd. ¥50 jpy converts to approximately $0.33 usd."
    ]
    assert "Amount must convert to at least $0.50 usd." in response.text
    assert "Send a payment link instead" not in response.text
