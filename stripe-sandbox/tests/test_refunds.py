"""Refunds as Stripe makes them: without an amount, what remains; never more than the charge."""

from __future__ import annotations

import pytest
import stripe


@pytest.fixture
def client(stripe_sandbox):
    secret, _, _ = stripe_sandbox.new_account()
    return stripe_sandbox.client(secret)


@pytest.fixture
def charge(client):
    intent = client.v1.payment_intents.create(
        params={
            "amount": 2000,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": True,
        }
    )
    return client.v1.charges.retrieve(intent.latest_charge)


def test_a_refund_without_amount_refunds_what_remains(client, charge):
    client.v1.refunds.create(params={"charge": charge.id, "amount": 500})
    partly = client.v1.charges.retrieve(charge.id)
    assert (partly.amount_refunded, partly.refunded) == (500, False)

    rest = client.v1.refunds.create(params={"payment_intent": charge.payment_intent})

    assert rest.amount == 1500
    after = client.v1.charges.retrieve(charge.id)
    assert (after.amount, after.amount_refunded, after.refunded) == (2000, 2000, True)


def test_a_refund_above_what_remains_is_refused(client, charge):
    client.v1.refunds.create(params={"charge": charge.id, "amount": 1500})

    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.refunds.create(params={"charge": charge.id, "amount": 600})

    error = info.value.json_body["error"]
    assert (error["code"], error["param"]) == ("amount_too_large", "amount")
    assert client.v1.charges.retrieve(charge.id).amount_refunded == 1500


@pytest.mark.parametrize("amount", [None, 100])
def test_a_fully_refunded_charge_is_charge_already_refunded(client, charge, amount):
    client.v1.refunds.create(params={"charge": charge.id})
    params = {"charge": charge.id} | ({"amount": amount} if amount else {})

    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.refunds.create(params=params)

    assert info.value.json_body["error"]["code"] == "charge_already_refunded"
    after = client.v1.charges.retrieve(charge.id)
    assert (after.amount_refunded, after.refunded) == (2000, True)
