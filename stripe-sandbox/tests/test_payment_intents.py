"""PaymentIntents with the fields the portal sends, test cards, declines and charge events."""

from __future__ import annotations

import pytest
import stripe

SUCCEEDING_TEST_PMS = [
    ("pm_card_visa", "visa", "4242"),
    ("pm_card_mastercard", "mastercard", "4444"),
    ("pm_card_amex", "amex", "0005"),
    ("pm_card_discover", "discover", "1117"),
    ("pm_card_diners", "diners", "0004"),
    ("pm_card_jcb", "jcb", "0505"),
]

DECLINING_TEST_PMS = [
    ("pm_card_chargeDeclined", "card_declined", "generic_decline"),
    ("pm_card_chargeDeclinedInsufficientFunds", "card_declined", "insufficient_funds"),
    ("pm_card_chargeDeclinedExpiredCard", "expired_card", "expired_card"),
    ("pm_card_chargeDeclinedIncorrectCvc", "incorrect_cvc", "incorrect_cvc"),
    ("pm_card_chargeDeclinedProcessingError", "processing_error", "processing_error"),
]


@pytest.fixture
def client(stripe_sandbox):
    secret, _, _ = stripe_sandbox.new_account()
    return stripe_sandbox.client(secret)


def _card_pm(client, number, cvc="123"):
    return client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": cvc},
        }
    )


def test_create_and_confirm_returns_the_portal_fields(client):
    customer = client.v1.customers.create(params={"email": "payer@example.com"})
    intent = client.v1.payment_intents.create(
        params={
            "amount": 12345,
            "currency": "usd",
            "customer": customer.id,
            "payment_method": "pm_card_visa",
            "confirm": True,
            "description": "Invoice INV-42",
            "receipt_email": "payer@example.com",
            "statement_descriptor": "ACME INV-42",
            "metadata": {"invoice_id": "42", "workspace": "acme"},
            "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
            "setup_future_usage": "off_session",
        }
    )

    assert intent.status == "succeeded"
    assert intent.description == "Invoice INV-42"
    assert intent.receipt_email == "payer@example.com"
    assert intent.statement_descriptor == "ACME INV-42"
    assert intent.metadata.to_dict() == {"invoice_id": "42", "workspace": "acme"}
    assert intent.automatic_payment_methods.to_dict() == {
        "enabled": True,
        "allow_redirects": "never",
    }
    assert intent.setup_future_usage == "off_session"
    assert intent.customer == customer.id
    assert intent.payment_method.startswith("pm_") and intent.payment_method != "pm_card_visa"
    assert intent.amount_received == 12345
    assert isinstance(intent.latest_charge, str) and intent.latest_charge.startswith("ch_")

    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert charge.payment_intent == intent.id
    assert charge.status == "succeeded" and charge.paid and charge.captured
    assert charge.amount == 12345
    assert charge.description == "Invoice INV-42"
    assert charge.receipt_email == "payer@example.com"
    assert charge.metadata.to_dict() == {"invoice_id": "42", "workspace": "acme"}
    assert charge.payment_method == intent.payment_method

    again = client.v1.payment_intents.retrieve(intent.id)
    assert again.latest_charge == charge.id
    expanded = client.v1.payment_intents.retrieve(intent.id, params={"expand": ["latest_charge"]})
    assert expanded.latest_charge.id == charge.id
    assert expanded.latest_charge.object == "charge"


def test_create_then_confirm_separately(client):
    intent = client.v1.payment_intents.create(
        params={"amount": 500, "currency": "eur", "description": "later"}
    )
    assert intent.status == "requires_payment_method"
    assert intent.latest_charge is None

    confirmed = client.v1.payment_intents.confirm(
        intent.id, params={"payment_method": "pm_card_mastercard", "receipt_email": "x@y.z"}
    )

    assert confirmed.status == "succeeded"
    assert confirmed.receipt_email == "x@y.z"
    assert client.v1.charges.retrieve(confirmed.latest_charge).payment_intent == intent.id


@pytest.mark.parametrize(("pm", "brand", "last4"), SUCCEEDING_TEST_PMS)
def test_test_payment_method_ids_succeed(client, pm, brand, last4):
    intent = client.v1.payment_intents.create(
        params={"amount": 1000, "currency": "usd", "payment_method": pm, "confirm": True}
    )
    assert intent.status == "succeeded"
    card = client.v1.payment_methods.retrieve(intent.payment_method).card
    assert (card.brand, card.last4) == (brand, last4)


@pytest.mark.parametrize(
    ("number", "cvc"), [("378282246310005", "1234"), ("36227206271667", "123")]
)
def test_non_16_digit_cards_are_accepted(client, number, cvc):
    pm = _card_pm(client, number, cvc)
    assert pm.card.last4 == number[-4:]


@pytest.mark.parametrize(("pm", "code", "decline_code"), DECLINING_TEST_PMS)
def test_declines_answer_402_card_error_with_decline_code(client, pm, code, decline_code):
    with pytest.raises(stripe.CardError) as info:
        client.v1.payment_intents.create(
            params={"amount": 1000, "currency": "usd", "payment_method": pm, "confirm": True}
        )

    assert info.value.http_status == 402
    error = info.value.json_body["error"]
    assert error["type"] == "card_error"
    assert (error["code"], error["decline_code"]) == (code, decline_code)
    assert error["payment_intent"]["status"] == "requires_payment_method"
    intent = client.v1.payment_intents.retrieve(error["payment_intent"]["id"])
    assert intent.last_payment_error.code == code
    assert intent.last_payment_error.decline_code == decline_code
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert charge.status == "failed"
    assert charge.failure_code == code
    assert charge.outcome.reason == decline_code


def test_declined_card_number_also_fails_when_charged(client):
    pm = _card_pm(client, "4000000000009995")
    with pytest.raises(stripe.CardError) as info:
        client.v1.payment_intents.create(
            params={"amount": 1000, "currency": "usd", "payment_method": pm.id, "confirm": True}
        )
    assert info.value.json_body["error"]["decline_code"] == "insufficient_funds"


def test_attaching_a_declined_card_fails(client):
    customer = client.v1.customers.create(params={"email": "a@x.com"})
    with pytest.raises(stripe.CardError) as info:
        client.v1.payment_methods.attach("pm_card_chargeDeclined", params={"customer": customer.id})
    assert info.value.json_body["error"]["decline_code"] == "generic_decline"


def _saved_card(client, number):
    customer = client.v1.customers.create(params={"email": "saved@example.com"})
    pm = _card_pm(client, number)
    client.v1.payment_methods.attach(pm.id, params={"customer": customer.id})
    return customer, pm


def test_off_session_charge_of_a_saved_card(client):
    customer, pm = _saved_card(client, "4242424242424242")
    intent = client.v1.payment_intents.create(
        params={
            "amount": 4200,
            "currency": "usd",
            "customer": customer.id,
            "payment_method": pm.id,
            "off_session": True,
            "confirm": True,
        }
    )
    assert intent.status == "succeeded"
    assert client.v1.charges.retrieve(intent.latest_charge).customer == customer.id


def test_off_session_with_a_card_that_always_requires_authentication(client):
    customer, pm = _saved_card(client, "4000002760003184")
    with pytest.raises(stripe.CardError) as info:
        client.v1.payment_intents.create(
            params={
                "amount": 4200,
                "currency": "usd",
                "customer": customer.id,
                "payment_method": pm.id,
                "off_session": True,
                "confirm": True,
            }
        )
    error = info.value.json_body["error"]
    assert error["code"] == "authentication_required"
    assert error["decline_code"] == "authentication_required"
    assert error["payment_intent"]["status"] == "requires_payment_method"


def test_on_session_3ds_card_requires_action(client):
    intent = client.v1.payment_intents.create(
        params={
            "amount": 4200,
            "currency": "usd",
            "payment_method": "pm_card_authenticationRequired",
            "confirm": True,
        }
    )
    assert intent.status == "requires_action"


def test_charge_and_payment_intent_events(client):
    ok = client.v1.payment_intents.create(
        params={
            "amount": 1000,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": True,
        }
    )
    with pytest.raises(stripe.CardError):
        client.v1.payment_intents.create(
            params={
                "amount": 1000,
                "currency": "usd",
                "payment_method": "pm_card_chargeDeclined",
                "confirm": True,
            },
            options={"idempotency_key": "declined-key"},
        )
    refund = client.v1.refunds.create(params={"payment_intent": ok.id, "amount": 400})
    assert refund.payment_intent == ok.id

    events = client.v1.events.list(params={"limit": 100}).data
    types = [e.type for e in events]
    for expected in (
        "payment_intent.created",
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "charge.succeeded",
        "charge.failed",
        "charge.refunded",
        "refund.created",
    ):
        assert expected in types

    # Newest first, Stripe's event shape:
    assert events[0].created >= events[-1].created
    refunded = next(e for e in events if e.type == "charge.refunded")
    assert refunded.object == "event"
    assert refunded.livemode is False
    assert refunded.api_version
    assert refunded.pending_webhooks == 0
    assert refunded.data.object.object == "charge"
    assert refunded.data.object.amount_refunded == 400
    assert refunded.data.object.payment_intent == ok.id
    assert refunded.request.id.startswith("req_")
    failed = next(e for e in events if e.type == "charge.failed")
    assert failed.request.idempotency_key == "declined-key"
    assert failed.data.object.failure_code == "card_declined"

    assert client.v1.events.retrieve(refunded.id).id == refunded.id
    only = client.v1.events.list(params={"type": "charge.succeeded"}).data
    assert [e.type for e in only] == ["charge.succeeded"]
    page = client.v1.events.list(params={"limit": 2})
    assert len(page.data) == 2 and page.has_more
    after = client.v1.events.list(params={"limit": 2, "starting_after": page.data[-1].id})
    assert after.data[0].id not in {e.id for e in page.data}
    recent = client.v1.events.list(params={"created": {"gte": events[0].created}}).data
    assert events[0].id in {e.id for e in recent}


def test_refund_emits_charge_refunded(client):
    intent = client.v1.payment_intents.create(
        params={
            "amount": 1000,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": True,
        }
    )
    client.v1.refunds.create(
        params={"charge": intent.latest_charge, "reason": "requested_by_customer"}
    )
    [event] = client.v1.events.list(params={"type": "charge.refunded"}).data
    assert event.data.object.refunded is True
    assert client.v1.charges.retrieve(intent.latest_charge).amount_refunded == 1000


def test_cancel_with_reason(client):
    intent = client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd"})
    canceled = client.v1.payment_intents.cancel(
        intent.id, params={"cancellation_reason": "abandoned"}
    )
    assert canceled.status == "canceled"
    assert canceled.cancellation_reason == "abandoned"


def test_ids_do_not_repeat_when_the_global_random_is_reseeded(client):
    """Tests that reseed `random` (hypothesis does, per example) still get distinct ids."""
    import random

    ids = set()
    for _ in range(3):
        random.seed(2026)
        intent = client.v1.payment_intents.create(params={"amount": 500, "currency": "usd"})
        ids.add(intent.id)
    assert len(ids) == 3
