"""Stripe Connect OAuth as stripe-python's ``client.oauth`` uses it, and ``Stripe-Account``."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request

import pytest
import stripe

from stripe_sandbox.context import random_token
from stripe_sandbox.control import SandboxControlError

CLIENT_ID = "ca_" + "T" * 28
REDIRECT = "https://portal.example/stripe/callback"


@pytest.fixture
def platform(stripe_sandbox):
    secret = "sk_test_" + random_token(32)
    stripe_sandbox.control.register_platform(
        CLIENT_ID, secret, account={"name": "Acme Portal", "email": "ops@acme.example"}
    )
    return stripe_sandbox.client(secret, client_id=CLIENT_ID), secret


def _authorize_url(client, state="st4te"):
    return client.oauth.authorize_url(
        params={"scope": "read_write", "state": state, "redirect_uri": REDIRECT}
    )


def _query(location):
    assert location.startswith(REDIRECT + "?")
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


def _connect(stripe_sandbox, client, state="st4te"):
    location = stripe_sandbox.control.oauth_decide(_authorize_url(client, state), grant=True)
    code = _query(location)["code"]
    return client.oauth.token(params={"grant_type": "authorization_code", "code": code})


def test_authorize_page_shows_platform_and_account(stripe_sandbox, platform):
    client, _ = platform
    url = _authorize_url(client)
    assert url.startswith(stripe_sandbox.url + "/oauth/authorize?")
    assert "client_id=" + CLIENT_ID in url and "response_type=code" in url
    with urllib.request.urlopen(url) as response:
        page = response.read().decode()
        assert response.headers["Content-Type"].startswith("text/html")
    assert "Acme Portal wants to connect to your Stripe account" in page
    assert "Connected Account 1" in page
    assert ">Grant access</button>" in page and ">Deny</button>" in page


def test_grant_and_token_exchange(stripe_sandbox, platform):
    client, _ = platform
    location = stripe_sandbox.control.oauth_decide(_authorize_url(client, "abc 123"))
    query = _query(location)
    assert query["code"].startswith("ac_")
    assert query["scope"] == "read_write"
    assert query["state"] == "abc 123"

    token = client.oauth.token(params={"grant_type": "authorization_code", "code": query["code"]})
    assert token["access_token"].startswith("sk_test_")
    assert token["refresh_token"].startswith("rt_")
    assert token["stripe_publishable_key"].startswith("pk_test_")
    assert token["stripe_user_id"].startswith("acct_")
    assert token["livemode"] is False
    assert token["scope"] == "read_write"
    assert token["token_type"] == "bearer"

    # The access token is a key of the connected account.
    connected = stripe_sandbox.client(token["access_token"]).v1.accounts.retrieve_current()
    assert connected.id == token["stripe_user_id"]
    assert connected.business_profile.name == "Connected Account 1"
    assert connected.country == "US" and connected.default_currency == "usd"

    # A code works once.
    with pytest.raises(stripe.oauth_error.InvalidGrantError) as exc_info:
        client.oauth.token(params={"grant_type": "authorization_code", "code": query["code"]})
    assert exc_info.value.http_status == 400
    assert "already used" in str(exc_info.value)
    with pytest.raises(stripe.oauth_error.InvalidGrantError):
        client.oauth.token(params={"grant_type": "authorization_code", "code": "ac_nope"})


def test_deny_redirects_with_access_denied(stripe_sandbox, platform):
    client, _ = platform
    location = stripe_sandbox.control.oauth_decide(_authorize_url(client, "s1"), grant=False)
    query = _query(location)
    assert query["error"] == "access_denied"
    assert query["error_description"]
    assert query["state"] == "s1"
    assert "code" not in query


def test_unknown_client_id_gets_an_error_page(stripe_sandbox, platform):
    url = f"{stripe_sandbox.url}/oauth/authorize?response_type=code&client_id=ca_unknown"
    url += "&scope=read_write&redirect_uri=" + urllib.parse.quote(REDIRECT)
    with pytest.raises(urllib.error.HTTPError) as exc_info:
        urllib.request.urlopen(url)
    assert exc_info.value.code == 400
    assert "ca_unknown" in exc_info.value.read().decode()


def test_next_connected_account_is_used(stripe_sandbox, platform):
    client, _ = platform
    secret, _, existing = stripe_sandbox.new_account(name="Bob's Bikes", country="GB")
    stripe_sandbox.control.set_next_connected_account(CLIENT_ID, {"id": existing["id"]})
    stripe_sandbox.control.set_next_connected_account(
        CLIENT_ID, {"name": "Second", "country": "FR"}
    )

    with urllib.request.urlopen(_authorize_url(client)) as response:
        assert "Bob&#x27;s Bikes" in response.read().decode()
    first = _connect(stripe_sandbox, client)
    second = _connect(stripe_sandbox, client)
    assert first["stripe_user_id"] == existing["id"]
    assert second["stripe_user_id"] != existing["id"]
    acct = client.v1.accounts.retrieve_current(options={"stripe_account": second["stripe_user_id"]})
    assert acct.business_profile.name == "Second" and acct.country == "FR"
    # The account's own key still works and sees the same data as the platform acting for it.
    direct = stripe_sandbox.client(secret)
    customer = client.v1.customers.create(
        params={"email": "x@bob.example"}, options={"stripe_account": existing["id"]}
    )
    assert [c.id for c in direct.v1.customers.list().data] == [customer.id]

    [listed] = stripe_sandbox.control.platforms()
    assert {c["stripe_user_id"] for c in listed["connections"]} == {
        existing["id"],
        second["stripe_user_id"],
    }


def test_stripe_account_header_acts_for_the_connected_account(stripe_sandbox, platform):
    client, _ = platform
    token = _connect(stripe_sandbox, client)
    acct_id = token["stripe_user_id"]
    on_behalf = {"stripe_account": acct_id}

    assert client.v1.accounts.retrieve_current(options=on_behalf).id == acct_id
    assert client.v1.accounts.retrieve_current().business_profile.name == "Acme Portal"
    customer = client.v1.customers.create(params={"email": "c@x.example"}, options=on_behalf)
    intent = client.v1.payment_intents.create(
        params={
            "amount": 700,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": True,
        },
        options=on_behalf,
    )
    assert intent.status == "succeeded"
    # Isolation: the platform's own data does not contain them; the access token sees them.
    assert client.v1.customers.list().data == []
    connected = stripe_sandbox.client(token["access_token"])
    assert [c.id for c in connected.v1.customers.list().data] == [customer.id]
    assert connected.v1.payment_intents.retrieve(intent.id).amount == 700
    assert client.v1.accounts.retrieve(acct_id).id == acct_id
    log = stripe_sandbox.control.requests(path="/v1/customers", method="POST")
    assert log[-1]["account"] == acct_id


def test_stripe_account_without_access_is_refused(stripe_sandbox, platform):
    client, _ = platform
    _, _, stranger = stripe_sandbox.new_account()
    with pytest.raises(stripe.PermissionError) as exc_info:
        client.v1.customers.list(options={"stripe_account": stranger["id"]})
    assert exc_info.value.http_status == 403
    message = exc_info.value.user_message
    assert f"does not have access to account '{stranger['id']}'" in message
    assert "Application access may have been revoked." in message
    assert message.startswith("The provided key 'sk_test_****")
    assert exc_info.value.json_body["error"]["code"] == "account_invalid"
    with pytest.raises(stripe.PermissionError):
        client.v1.accounts.retrieve(stranger["id"])


def test_deauthorize_revokes_access(stripe_sandbox, platform):
    client, _ = platform
    token = _connect(stripe_sandbox, client)
    acct_id = token["stripe_user_id"]
    client.v1.customers.list(options={"stripe_account": acct_id})

    result = client.oauth.deauthorize(params={"stripe_user_id": acct_id})
    assert result["stripe_user_id"] == acct_id

    with pytest.raises(stripe.PermissionError):
        client.v1.customers.list(options={"stripe_account": acct_id})
    with pytest.raises(stripe.AuthenticationError):
        stripe_sandbox.client(token["access_token"]).v1.customers.list()
    with pytest.raises(stripe.oauth_error.InvalidClientError):
        client.oauth.deauthorize(params={"stripe_user_id": acct_id})
    # Connecting again works.
    again = _connect(stripe_sandbox, client)
    assert again["stripe_user_id"] != acct_id  # a fresh account: the queue was empty
    client.v1.customers.list(options={"stripe_account": again["stripe_user_id"]})


def test_token_needs_the_platform_key(stripe_sandbox, platform):
    client, _ = platform
    location = stripe_sandbox.control.oauth_decide(_authorize_url(client))
    code = _query(location)["code"]
    other_secret, _, _ = stripe_sandbox.new_account()
    other = stripe.StripeClient(
        other_secret,
        base_addresses={"api": stripe_sandbox.url, "connect": stripe_sandbox.url},
        client_id=CLIENT_ID,
        max_network_retries=0,
    )
    with pytest.raises(stripe.oauth_error.InvalidClientError):
        other.oauth.token(params={"grant_type": "authorization_code", "code": code})
    # Still usable by the platform.
    assert client.oauth.token(params={"grant_type": "authorization_code", "code": code})[
        "stripe_user_id"
    ].startswith("acct_")


def test_refresh_token_and_read_only_scope(stripe_sandbox, platform):
    client, _ = platform
    url = client.oauth.authorize_url(params={"scope": "read_only", "redirect_uri": REDIRECT})
    code = _query(stripe_sandbox.control.oauth_decide(url))["code"]
    token = client.oauth.token(params={"grant_type": "authorization_code", "code": code})
    assert token["scope"] == "read_only"
    on_behalf = {"stripe_account": token["stripe_user_id"]}
    client.v1.customers.list(options=on_behalf)
    with pytest.raises(stripe.PermissionError):
        client.v1.customers.create(params={"email": "x@y.example"}, options=on_behalf)

    refreshed = client.oauth.token(
        params={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]}
    )
    assert refreshed["access_token"] != token["access_token"]
    assert refreshed["stripe_user_id"] == token["stripe_user_id"]


def test_register_platform_validates(stripe_sandbox):
    with pytest.raises(SandboxControlError) as exc_info:
        stripe_sandbox.control.register_platform("nope", "sk_test_" + random_token(20))
    assert exc_info.value.status == 400
    with pytest.raises(SandboxControlError):
        stripe_sandbox.control.set_next_connected_account("ca_unknown")
