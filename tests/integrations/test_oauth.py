"""Stripe Connect end to end against the sandbox: authorize, grant, callback, use, remove."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import stripe
from django.urls import reverse

from integrations.models import StripeConnection

CLIENT_ID = "ca_testPlatform0001"


@pytest.fixture
def platform(sandbox, settings):
    secret, _, _ = sandbox.new_account(name="The Agency Platform")
    sandbox.control.register_platform(CLIENT_ID, secret)
    settings.STRIPE_CONNECT_CLIENT_ID = CLIENT_ID
    settings.STRIPE_CONNECT_SECRET_KEY = secret
    settings.SITE_URL = "http://testserver"
    sandbox.control.set_next_connected_account(
        CLIENT_ID, {"name": "Acme Dental Connected", "country": "US", "default_currency": "usd"}
    )
    return secret


def _start(client):
    response = client.post(reverse("stripe_oauth_start", args=["acme"]))
    assert response.status_code == 302
    return response["Location"]


def _callback_path(location: str) -> str:
    parts = urlsplit(location)
    return f"{parts.path}?{parts.query}"


def test_connect_with_stripe_end_to_end(sandbox, platform, owner, as_user):
    client = as_user(owner)
    authorize = _start(client)
    query = parse_qs(urlsplit(authorize).query)
    assert query["client_id"] == [CLIENT_ID] and query["scope"] == ["read_write"]
    assert query["redirect_uri"] == ["http://testserver/stripe/oauth/callback/"]
    back = sandbox.control.oauth_decide(authorize, grant=True)
    response = client.get(_callback_path(back), follow=True)
    # Back in Settings -> Integrations, where the account is listed.
    assert response.redirect_chain[-1][0] == reverse("integrations_settings", args=["acme"])
    connection = StripeConnection.objects.get()
    assert connection.connected_via == "oauth" and connection.account_id.startswith("acct_")
    assert connection.account_name == "Acme Dental Connected" and connection.secret_key == ""
    assert "Connected to Acme Dental Connected through Stripe Connect" in response.content.decode()
    # API calls use the platform key with the Stripe-Account header.
    html = client.get(reverse("stripe_dashboard", args=["acme"])).content.decode()
    assert connection.account_id in html
    assert platform not in html


def test_the_callback_only_works_in_the_session_that_started_it(sandbox, platform, owner, as_user):
    authorize = _start(as_user(owner))
    back = sandbox.control.oauth_decide(authorize, grant=True)
    other_session = as_user(owner)  # same user, another browser
    response = other_session.get(_callback_path(back))
    assert response.status_code == 400
    assert not StripeConnection.objects.exists()


def test_a_forged_state_connects_nothing(sandbox, platform, owner, as_user):
    response = as_user(owner).get(reverse("stripe_oauth_callback"), {"state": "x", "code": "ac_x"})
    assert response.status_code == 400 and not StripeConnection.objects.exists()


def test_denying_access_connects_nothing(sandbox, platform, owner, as_user):
    client = as_user(owner)
    back = sandbox.control.oauth_decide(_start(client), grant=False)
    response = client.get(_callback_path(back), follow=True)
    assert response.redirect_chain[-1][0] == reverse("integrations_settings", args=["acme"])
    assert "Stripe Connect was cancelled; nothing was connected." in response.content.decode()
    assert not StripeConnection.objects.exists()


def test_a_code_cannot_be_used_twice(sandbox, platform, owner, as_user):
    client = as_user(owner)
    back = sandbox.control.oauth_decide(_start(client), grant=True)
    client.get(_callback_path(back))
    assert StripeConnection.objects.count() == 1
    # Replaying the callback: its state was used up with the first answer.
    assert client.get(_callback_path(back)).status_code == 400
    assert StripeConnection.objects.count() == 1


def test_removing_a_connect_connection_revokes_access(sandbox, platform, owner, as_user):
    client = as_user(owner)
    back = sandbox.control.oauth_decide(_start(client), grant=True)
    client.get(_callback_path(back))
    connection = StripeConnection.objects.get()
    remove = reverse("stripe_connection_remove", args=["acme", connection.uuid])
    assert client.post(remove).status_code == 302
    assert not StripeConnection.objects.exists()
    platform_client = sandbox.client(platform, stripe_account=connection.account_id)
    with pytest.raises(stripe.PermissionError):
        platform_client.v1.customers.list()


def test_without_a_client_id_there_is_no_connect_button(sandbox, owner, as_user, settings):
    settings.STRIPE_CONNECT_CLIENT_ID = ""
    page = as_user(owner).get(reverse("stripe_connection_create", args=["acme"]))
    assert "Connect with Stripe" not in page.content.decode()
    assert as_user(owner).post(reverse("stripe_oauth_start", args=["acme"])).status_code == 404


def test_staff_cannot_start_connect(sandbox, platform, staff, as_user):
    assert as_user(staff).post(reverse("stripe_oauth_start", args=["acme"])).status_code == 403


def test_connecting_keeps_the_accounts_country_and_default_currency(
    sandbox, platform, owner, as_user
):
    client = as_user(owner)
    client.get(_callback_path(sandbox.control.oauth_decide(_start(client), grant=True)))
    sandbox.control.set_next_connected_account(
        CLIENT_ID, {"name": "Zahnarzt", "country": "DE", "default_currency": "eur"}
    )
    client.get(_callback_path(sandbox.control.oauth_decide(_start(client), grant=True)))
    kept = StripeConnection.objects.values_list("account_name", "country", "default_currency")
    assert sorted(kept) == [("Acme Dental Connected", "US", "usd"), ("Zahnarzt", "DE", "eur")]
