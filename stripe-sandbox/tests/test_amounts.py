"""Stripe's amount bounds: each currency's minimum, the minimum after conversion to the account's
settlement currency, eight digits at most, three-decimal amounts ending in 0."""

from __future__ import annotations

import pytest
import stripe


@pytest.fixture
def usd_client(stripe_sandbox):
    secret, _, _ = stripe_sandbox.new_account(default_currency="usd")
    return stripe_sandbox.client(secret)


def _pay(client, amount, currency, **extra):
    return client.v1.payment_intents.create(
        params={
            "amount": amount,
            "currency": currency,
            "payment_method": "pm_card_visa",
            "confirm": True,
            **extra,
        }
    )


def _refused(call) -> dict:
    with pytest.raises(stripe.InvalidRequestError) as info:
        call()
    assert info.value.http_status == 400
    error = info.value.json_body["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == "amount"
    return error


@pytest.mark.parametrize(
    ("currency", "minimum"),
    [("usd", 50), ("eur", 50), ("gbp", 30), ("cad", 50), ("chf", 50), ("jpy", 50)],
)
def test_below_the_currencys_minimum_is_amount_too_small(stripe_sandbox, currency, minimum):
    secret, _, _ = stripe_sandbox.new_account(default_currency=currency)
    client = stripe_sandbox.client(secret)

    error = _refused(lambda: _pay(client, minimum - 1, currency))

    assert error["code"] == "amount_too_small"
    assert _pay(client, minimum, currency).status == "succeeded"


@pytest.mark.parametrize(("amount", "currency"), [(50, "jpy"), (100, "krw"), (10_000, "vnd")])
def test_below_the_settlement_minimum_after_conversion(usd_client, amount, currency):
    error = _refused(lambda: _pay(usd_client, amount, currency))

    assert error["code"] == "amount_too_small"
    assert error["message"].startswith("Amount must convert to at least $0.50 usd.")
    assert not usd_client.v1.payment_intents.list().data  # nothing was made


def test_above_the_settlement_minimum_after_conversion(usd_client):
    assert _pay(usd_client, 100, "jpy").status == "succeeded"  # about USD 0.67
    assert _pay(usd_client, 1000, "krw").status == "succeeded"


def test_an_unconfirmed_intent_is_refused_too(usd_client):
    error = _refused(
        lambda: usd_client.v1.payment_intents.create(params={"amount": 49, "currency": "usd"})
    )
    assert error["code"] == "amount_too_small"


def test_more_than_eight_digits_is_amount_too_large(usd_client):
    error = _refused(lambda: _pay(usd_client, 100_000_000, "usd"))

    assert error["code"] == "amount_too_large"
    assert _pay(usd_client, 99_999_999, "usd").status == "succeeded"


@pytest.mark.parametrize("currency", ["kwd", "bhd", "jod", "omr", "tnd"])
def test_three_decimal_amounts_must_end_in_zero(usd_client, currency):
    _refused(lambda: _pay(usd_client, 5_005, currency))

    assert _pay(usd_client, 5_010, currency).status == "succeeded"


def test_direct_charges_are_checked_too(usd_client):
    error = _refused(
        lambda: usd_client.v1.charges.create(
            params={"amount": 40, "currency": "usd", "source": "tok_visa"}
        )
    )
    assert error["code"] == "amount_too_small"
    charge = usd_client.v1.charges.create(
        params={"amount": 500, "currency": "usd", "source": "tok_visa"}
    )
    assert charge.status == "succeeded" and charge.amount == 500


def test_a_eur_account_converts_to_eur(stripe_sandbox):
    secret, _, _ = stripe_sandbox.new_account(default_currency="eur")
    client = stripe_sandbox.client(secret)

    error = _refused(lambda: _pay(client, 50, "usd"))  # about EUR 0.46

    assert error["message"].startswith("Amount must convert to at least €0.50 eur.")
    assert _pay(client, 60, "usd").status == "succeeded"
