"""Stripe's documented test PaymentMethods and tokens, through stripe-python; card errors carry
what Stripe's do (payment_method, decline_code, charge, payment_intent); 4000002500003155 needs
the customer until it is set up."""

from __future__ import annotations

import pytest
import stripe

SUCCEEDING = [
    ("pm_card_visa", "visa", "4242"),
    ("pm_card_visa_debit", "visa", "5556"),
    ("pm_card_mastercard", "mastercard", "4444"),
    ("pm_card_mastercard_debit", "mastercard", "8210"),
    ("pm_card_mastercard_prepaid", "mastercard", "5100"),
    ("pm_card_amex", "amex", "0005"),
    ("pm_card_discover", "discover", "1117"),
    ("pm_card_diners", "diners", "0004"),
    ("pm_card_jcb", "jcb", "0505"),
    ("pm_card_unionpay", "unionpay", "0005"),
]

DECLINING = [
    ("pm_card_visa_chargeDeclined", "card_declined", "generic_decline"),
    ("pm_card_visa_chargeDeclinedInsufficientFunds", "card_declined", "insufficient_funds"),
    ("pm_card_visa_chargeDeclinedLostCard", "card_declined", "lost_card"),
    ("pm_card_visa_chargeDeclinedStolenCard", "card_declined", "stolen_card"),
    ("pm_card_visa_chargeDeclinedVelocityLimitExceeded", "card_declined", "card_velocity_exceeded"),
    ("pm_card_chargeDeclinedExpiredCard", "expired_card", "expired_card"),
    ("pm_card_chargeDeclinedIncorrectCvc", "incorrect_cvc", "incorrect_cvc"),
    ("pm_card_chargeDeclinedProcessingError", "processing_error", "processing_error"),
    ("pm_card_chargeCustomerFail", "card_declined", "generic_decline"),
    ("pm_card_radarBlock", "card_declined", "fraudulent"),
]

TOKENS = [
    ("tok_visa", None),
    ("tok_mastercard", None),
    ("tok_amex", None),
    ("tok_discover", None),
    ("tok_chargeDeclined", "generic_decline"),
    ("tok_chargeDeclinedInsufficientFunds", "insufficient_funds"),
    ("tok_chargeDeclinedLostCard", "lost_card"),
    ("tok_chargeDeclinedStolenCard", "stolen_card"),
    ("tok_chargeDeclinedExpiredCard", "expired_card"),
    ("tok_chargeDeclinedIncorrectCvc", "incorrect_cvc"),
    ("tok_chargeDeclinedProcessingError", "processing_error"),
]


@pytest.fixture
def client(stripe_sandbox):
    secret, _, _ = stripe_sandbox.new_account()
    return stripe_sandbox.client(secret)


def _pay(client, **params):
    return client.v1.payment_intents.create(
        params={"amount": 1000, "currency": "usd", "confirm": True, **params}
    )


@pytest.mark.parametrize(("pm", "brand", "last4"), SUCCEEDING)
def test_succeeding_test_payment_methods(client, pm, brand, last4):
    intent = _pay(client, payment_method=pm)

    assert intent.status == "succeeded"
    card = client.v1.payment_methods.retrieve(intent.payment_method).card
    assert (card.brand, card.last4) == (brand, last4)


@pytest.mark.parametrize(("pm", "code", "decline_code"), DECLINING)
def test_declining_test_payment_methods_carry_stripes_error_fields(client, pm, code, decline_code):
    with pytest.raises(stripe.CardError) as info:
        _pay(client, payment_method=pm)

    error = info.value.json_body["error"]
    assert info.value.http_status == 402
    assert (error["type"], error["code"], error["decline_code"]) == (
        "card_error",
        code,
        decline_code,
    )
    intent = error["payment_intent"]
    assert intent["status"] == "requires_payment_method"
    assert error["payment_method"]["object"] == "payment_method"
    assert error["payment_method"]["id"] == intent["payment_method"]
    assert error["charge"] == intent["latest_charge"]
    assert client.v1.charges.retrieve(error["charge"]).outcome.reason == decline_code


@pytest.mark.parametrize(("token", "decline_code"), TOKENS)
def test_test_tokens_as_a_card_and_as_a_charge_source(client, token, decline_code):
    pm = client.v1.payment_methods.create(params={"type": "card", "card": {"token": token}})
    assert pm.card.last4

    if decline_code is None:
        assert _pay(client, payment_method=pm.id).status == "succeeded"
        charge = client.v1.charges.create(
            params={"amount": 700, "currency": "usd", "source": token}
        )
        assert charge.status == "succeeded"
        return
    with pytest.raises(stripe.CardError) as info:
        _pay(client, payment_method=pm.id)
    assert info.value.json_body["error"]["payment_method"]["id"] == pm.id
    with pytest.raises(stripe.CardError) as info:
        client.v1.charges.create(params={"amount": 700, "currency": "usd", "source": token})
    error = info.value.json_body["error"]
    assert error["decline_code"] == decline_code
    assert error["charge"].startswith("ch_")
    assert error["payment_method"]["object"] == "payment_method"


def test_a_token_in_payment_method_data(client):
    intent = _pay(client, payment_method_data={"type": "card", "card": {"token": "tok_visa"}})
    assert intent.status == "succeeded"


def test_an_unknown_token_is_refused(client):
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payment_methods.create(params={"type": "card", "card": {"token": "tok_nope"}})
    assert info.value.json_body["error"]["code"] == "resource_missing"


def _attached(client, pm_id):
    customer = client.v1.customers.create(params={"email": "saved@example.com"})
    pm = client.v1.payment_methods.attach(pm_id, params={"customer": customer.id})
    return customer, pm


def _off_session(client, customer, pm):
    return client.v1.payment_intents.create(
        params={
            "amount": 4200,
            "currency": "usd",
            "customer": customer.id,
            "payment_method": pm.id,
            "off_session": True,
            "confirm": True,
        }
    )


def test_a_card_requiring_authentication_on_setup_fails_off_session_until_set_up(client):
    customer, pm = _attached(client, "pm_card_authenticationRequiredOnSetup")

    with pytest.raises(stripe.CardError) as info:
        _off_session(client, customer, pm)

    error = info.value.json_body["error"]
    assert info.value.http_status == 402
    assert (error["code"], error["decline_code"]) == (
        "authentication_required",
        "authentication_required",
    )
    assert error["payment_intent"]["status"] == "requires_payment_method"
    assert error["payment_method"]["id"] == pm.id


def test_after_a_setup_intent_the_card_is_charged_off_session(client):
    customer, pm = _attached(client, "pm_card_authenticationRequiredOnSetup")
    setup = client.v1.setup_intents.create(params={"customer": customer.id, "usage": "off_session"})
    setup = client.v1.setup_intents.confirm(setup.id, params={"payment_method": pm.id})
    assert setup.status == "requires_action"
    client.raw_request("post", f"/v1/setup_intents/{setup.id}/_authenticate", success="true")
    assert client.v1.setup_intents.retrieve(setup.id).status == "succeeded"

    intent = _off_session(client, customer, pm)

    assert intent.status == "succeeded"


def test_a_card_that_always_requires_authentication_fails_off_session_even_set_up(client):
    customer, pm = _attached(client, "pm_card_authenticationRequired")
    setup = client.v1.setup_intents.create(params={"customer": customer.id})
    client.v1.setup_intents.confirm(setup.id, params={"payment_method": pm.id})
    client.raw_request("post", f"/v1/setup_intents/{setup.id}/_authenticate", success="true")

    with pytest.raises(stripe.CardError) as info:
        _off_session(client, customer, pm)

    assert info.value.code == "authentication_required"
