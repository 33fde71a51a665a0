"""Keys, accounts, authentication errors and data isolation between accounts."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
import stripe


def test_account_is_returned_in_stripe_shape(stripe_sandbox):
    secret, _, registered = stripe_sandbox.new_account(
        name="Acme Marketing", country="GB", default_currency="gbp", email="billing@acme.test"
    )
    account = stripe_sandbox.client(secret).v1.accounts.retrieve_current()

    assert account.id == registered["id"]
    assert account.id.startswith("acct_")
    assert account.object == "account"
    assert account.business_profile.name == "Acme Marketing"
    assert account.settings.dashboard.display_name == "Acme Marketing"
    assert (account.country, account.default_currency) == ("GB", "gbp")
    assert account.email == "billing@acme.test"
    assert account.charges_enabled is True
    assert account.payouts_enabled is True
    assert account.external_accounts.object == "list"


def test_register_key_can_choose_the_account_id(stripe_sandbox):
    secret, _, account = stripe_sandbox.new_account(id="acct_1Chosen000000000", name="X")
    assert account["id"] == "acct_1Chosen000000000"
    assert stripe_sandbox.client(secret).v1.accounts.retrieve_current().id == account["id"]


def test_unknown_key_gets_401_with_masked_key(stripe_sandbox):
    client = stripe_sandbox.client("sk_test_unknownunknownunknownabcd")
    with pytest.raises(stripe.AuthenticationError) as info:
        client.v1.customers.list()

    assert info.value.http_status == 401
    error = info.value.json_body["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith("Invalid API Key provided: sk_test_*")
    assert error["message"].endswith("abcd")
    assert "unknownunknown" not in error["message"]


def test_revoked_key_gets_401(stripe_sandbox):
    secret, _, _ = stripe_sandbox.new_account()
    client = stripe_sandbox.client(secret)
    client.v1.customers.create(params={"email": "a@example.com"})

    stripe_sandbox.control.revoke_key(secret)

    with pytest.raises(stripe.AuthenticationError) as info:
        client.v1.customers.list()
    assert info.value.json_body["error"]["message"].startswith("Invalid API Key provided")


def test_restricted_key_is_limited_to_its_permissions(stripe_sandbox):
    _, _, account = stripe_sandbox.new_account()
    restricted = "rk_test_" + "r" * 20 + "wxyz"
    stripe_sandbox.control.register_key(
        restricted,
        account={"id": account["id"]},
        permissions={"customers": "write", "payment_intents": "read"},
    )
    client = stripe_sandbox.client(restricted)

    customer = client.v1.customers.create(params={"email": "a@example.com"})
    assert client.v1.customers.retrieve(customer.id).email == "a@example.com"
    assert client.v1.payment_intents.list().data == []

    with pytest.raises(stripe.PermissionError) as info:
        client.v1.payment_intents.create(params={"amount": 500, "currency": "usd"})
    assert info.value.http_status == 403
    error = info.value.json_body["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith("The provided key 'rk_test_*")
    assert (
        "wxyz' does not have the required permissions for this endpoint on account"
        in (error["message"])
    )
    assert account["id"] in error["message"]
    assert "rak_payment_intent_write" in error["message"]

    with pytest.raises(stripe.PermissionError):
        client.v1.charges.list()


def test_publishable_key_is_refused_for_secret_endpoints(stripe_sandbox):
    _, publishable, _ = stripe_sandbox.new_account()
    with pytest.raises(stripe.AuthenticationError) as info:
        stripe_sandbox.client(publishable).v1.customers.list()
    assert "publishable API key" in info.value.json_body["error"]["message"]


def test_publishable_key_in_body_is_accepted_for_stripe_js_endpoints(stripe_sandbox):
    secret, publishable, _ = stripe_sandbox.new_account()
    body = json.dumps(
        {
            "key": publishable,
            "type": "card",
            "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"},
        }
    ).encode()
    request = urllib.request.Request(
        stripe_sandbox.url + "/v1/payment_methods", data=body, method="POST"
    )
    with urllib.request.urlopen(request) as response:
        pm = json.loads(response.read())

    assert pm["id"].startswith("pm_")
    # Created in the account of the publishable key:
    assert stripe_sandbox.client(secret).v1.payment_methods.retrieve(pm["id"]).card.last4 == "4242"


def test_no_key_gets_401(stripe_sandbox):
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(stripe_sandbox.url + "/v1/customers")
    assert info.value.code == 401
    assert json.loads(info.value.read())["error"]["type"] == "invalid_request_error"


def test_accounts_do_not_see_each_others_objects(stripe_sandbox):
    secret_a, _, _ = stripe_sandbox.new_account(name="A")
    secret_b, _, _ = stripe_sandbox.new_account(name="B")
    client_a = stripe_sandbox.client(secret_a)
    client_b = stripe_sandbox.client(secret_b)

    customer = client_a.v1.customers.create(params={"email": "a@example.com"})
    intent = client_a.v1.payment_intents.create(
        params={
            "amount": 1000,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": True,
        }
    )

    assert [c.id for c in client_a.v1.customers.list().data] == [customer.id]
    assert client_b.v1.customers.list().data == []
    assert client_b.v1.payment_intents.list().data == []
    assert client_b.v1.events.list().data == []
    with pytest.raises(stripe.InvalidRequestError) as info:
        client_b.v1.customers.retrieve(customer.id)
    assert info.value.http_status == 404
    assert info.value.code == "resource_missing"
    with pytest.raises(stripe.InvalidRequestError):
        client_b.v1.charges.retrieve(intent.latest_charge)


def test_live_keys_make_live_objects_and_events(stripe_sandbox):
    live_secret, _, _ = stripe_sandbox.new_account(live=True)
    test_secret, _, _ = stripe_sandbox.new_account()
    live = stripe_sandbox.client(live_secret)

    assert live.v1.customers.create(params={"email": "a@example.com"}).livemode is True
    assert {e.livemode for e in live.v1.events.list().data} == {True}
    test = stripe_sandbox.client(test_secret)
    assert test.v1.customers.create(params={"email": "a@example.com"}).livemode is False
    assert {e.livemode for e in test.v1.events.list().data} == {False}


def test_reset_wipes_keys_and_data(stripe_sandbox):
    secret, _, _ = stripe_sandbox.new_account()
    stripe_sandbox.client(secret).v1.customers.create(params={"email": "a@example.com"})

    stripe_sandbox.control.reset()

    with pytest.raises(stripe.AuthenticationError):
        stripe_sandbox.client(secret).v1.customers.list()
    assert stripe_sandbox.control.requests() == [
        r for r in stripe_sandbox.control.requests() if r["status"] == 401
    ]


def test_fake_stripe_js_is_served_without_auth(stripe_sandbox):
    with urllib.request.urlopen(stripe_sandbox.url + "/js.stripe.com/v3/") as response:
        assert response.status == 200
        assert "javascript" in response.headers["Content-Type"]
        assert b"localstripe" in response.read()
