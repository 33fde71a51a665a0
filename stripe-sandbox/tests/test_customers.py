"""Customers are created as Stripe creates them at the pinned API version: balance as given,
currency null until the first charge, tax ids of the type given, Stripe's 400s for what it
refuses, and a card source (``tok_visa``) that is the default and can be charged off-session."""

from __future__ import annotations

import pytest
import stripe


@pytest.fixture
def client(stripe_sandbox):
    secret, _, _ = stripe_sandbox.new_account()
    return stripe_sandbox.client(secret)


def _create(client, **params):
    return client.v1.customers.create(params=params).to_dict()


def _refused(call, status=400) -> dict:
    with pytest.raises(stripe.StripeError) as info:
        call()
    assert info.value.http_status == status
    return info.value.json_body["error"]


def test_a_negative_balance_stays_negative_and_no_account_balance_is_answered(client):
    customer = _create(client, name="Jane", balance=-500)
    assert customer["balance"] == -500
    assert "account_balance" not in customer
    again = client.v1.customers.retrieve(customer["id"]).to_dict()
    assert again["balance"] == -500 and "account_balance" not in again


def test_currency_is_null_until_the_first_charge_then_the_charges(client):
    customer = _create(client, email="jane@example.com", source="tok_visa")
    assert customer["currency"] is None
    client.v1.payment_intents.create(
        params={
            "amount": 1500,
            "currency": "gbp",
            "customer": customer["id"],
            "payment_method": customer["default_source"],
            "confirm": True,
            "off_session": True,
        }
    )
    assert client.v1.customers.retrieve(customer["id"]).currency == "gbp"


@pytest.mark.parametrize(
    ("type_", "value", "country"),
    [
        ("gb_vat", "GB123456789", "GB"),
        ("us_ein", "12-3456789", "US"),
        ("eu_vat", "DE123456789", "DE"),
    ],
)
def test_tax_id_data_creates_tax_ids_of_the_type_given(client, type_, value, country):
    customer = client.v1.customers.create(
        params={"tax_id_data": [{"type": type_, "value": value}], "expand": ["tax_ids"]}
    ).to_dict()
    (tax_id,) = customer["tax_ids"]["data"]
    assert (tax_id["type"], tax_id["value"], tax_id["country"]) == (type_, value, country)
    assert tax_id["customer"] == customer["id"]


def test_a_tax_id_without_type_is_parameter_missing(client):
    error = _refused(lambda: _create(client, tax_id_data=[{"value": "DE123456789"}]))
    assert (error["code"], error["param"]) == ("parameter_missing", "tax_id_data[0][type]")
    assert error["message"] == "Missing required param: tax_id_data[0][type]."
    assert error["type"] == "invalid_request_error"


def test_an_unknown_tax_id_type_is_refused(client):
    error = _refused(
        lambda: _create(client, tax_id_data=[{"type": "xx_vat", "value": "DE123456789"}])
    )
    assert (error["code"], error["param"]) == ("parameter_invalid", "tax_id_data[0][type]")
    assert "must be one of" in error["message"] and "eu_vat" in error["message"]


def test_a_malformed_email_is_email_invalid(client):
    error = _refused(lambda: _create(client, email="jane.example.com"))
    assert (error["code"], error["param"]) == ("email_invalid", "email")
    assert error["message"] == "Invalid email address: jane.example.com"


@pytest.mark.parametrize("name", ["coupon", "default_source"])
def test_coupon_and_default_source_are_unknown_on_create(client, name):
    # coupon left customers in 2025-03-31.basil; default_source is an update parameter.
    error = _refused(lambda: _create(client, **{name: "SUMMER"}))
    assert (error["code"], error["param"]) == ("parameter_unknown", name)
    assert error["message"] == f"Received unknown parameter: {name}"
    assert client.v1.customers.list().data == []


def test_a_card_source_is_the_default_and_listed_as_a_payment_method(client):
    customer = _create(client, source="tok_mastercard")
    assert customer["default_source"].startswith("card_")
    (card,) = client.v1.payment_methods.list(
        params={"customer": customer["id"], "type": "card"}
    ).data
    assert card.id == customer["default_source"]
    assert (card.card.brand, card.card.last4) == ("mastercard", "4444")


def test_a_declined_card_source_refuses_the_customer(client):
    error = _refused(lambda: _create(client, source="tok_chargeDeclined"), status=402)
    assert (error["type"], error["code"]) == ("card_error", "card_declined")
    assert client.v1.customers.list().data == []


def test_an_unknown_token_source_is_resource_missing(client):
    error = _refused(lambda: _create(client, source="tok_nope"))
    assert (error["code"], error["param"]) == ("resource_missing", "source")


def test_default_source_is_set_by_an_update_to_one_of_the_customers_sources(client):
    customer = _create(client, source="tok_visa")
    card = customer["default_source"]
    updated = client.v1.customers.update(customer["id"], params={"default_source": card})
    assert updated.default_source == card
    error = _refused(
        lambda: client.v1.customers.update(customer["id"], params={"default_source": "card_x"})
    )
    assert (error["code"], error["param"]) == ("resource_missing", "default_source")
    assert error["message"] == "No such source: 'card_x'"
