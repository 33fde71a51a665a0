"""Connect webhooks: a platform's ``connect=true`` endpoint gets its connected accounts' events,
with ``account`` set, signed with its own secret (docs.stripe.com/connect/webhooks)."""

from __future__ import annotations

import json

import pytest
import stripe

from stripe_sandbox.context import random_token

from .helpers import webhook_receiver
from .test_connect_oauth import CLIENT_ID, _connect


@pytest.fixture
def platform(stripe_sandbox):
    secret = "sk_test_" + random_token(32)
    stripe_sandbox.control.register_platform(CLIENT_ID, secret, account={"name": "Acme Portal"})
    return stripe_sandbox.client(secret, client_id=CLIENT_ID)


def _pay(client, **options):
    return client.v1.payment_intents.create(
        params={
            "amount": 1000,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": True,
        },
        options=options,
    )


def _events(received, secret):
    events = []
    for delivery in received:
        event = stripe.Webhook.construct_event(
            delivery.body, delivery.headers["Stripe-Signature"], secret
        )
        events.append(event)
    return events


def test_a_connected_accounts_events_reach_the_platforms_connect_endpoint(stripe_sandbox, platform):
    token = _connect(stripe_sandbox, platform)
    connected = token["stripe_user_id"]
    with webhook_receiver() as receiver, webhook_receiver() as own_receiver:
        endpoint = platform.v1.webhook_endpoints.create(
            params={"url": receiver.url, "enabled_events": ["charge.succeeded"], "connect": True}
        )
        platform.v1.webhook_endpoints.create(
            params={"url": own_receiver.url, "enabled_events": ["*"]}
        )
        # Made with the access token, then with the platform key and Stripe-Account.
        first = _pay(stripe_sandbox.client(token["access_token"]))
        second = _pay(platform, stripe_account=connected)
        received = receiver.wait_for(2)
        log = stripe_sandbox.control.deliveries(wait=5)

    events = _events(received, endpoint.secret)
    assert [e.type for e in events] == ["charge.succeeded", "charge.succeeded"]
    assert [e.account for e in events] == [connected, connected]
    assert [e.data.object.payment_intent for e in events] == [first.id, second.id]
    assert own_receiver.received == []  # the platform's account endpoint: its own events only
    assert {(d["account"], d["connect"], d["status"]) for d in log} == {(connected, True, 200)}
    with pytest.raises(stripe.SignatureVerificationError):  # not the access token's secret
        stripe.Webhook.construct_event(received[0].body, received[0].headers["Stripe-Signature"],
                                       "whsec_" + "x" * 32)  # fmt: skip


def test_the_platforms_own_events_and_unconnected_accounts_stay_off_the_connect_endpoint(
    stripe_sandbox, platform
):
    stranger_secret, _, _ = stripe_sandbox.new_account(name="Not connected")
    with webhook_receiver() as receiver, webhook_receiver() as account_receiver:
        platform.v1.webhook_endpoints.create(
            params={"url": receiver.url, "enabled_events": ["*"], "connect": "true"}
        )
        platform.v1.webhook_endpoints.create(
            params={"url": account_receiver.url, "enabled_events": ["customer.created"]}
        )
        platform.v1.customers.create(params={"email": "own@portal.example"})
        stripe_sandbox.client(stranger_secret).v1.customers.create(params={"email": "x@y.example"})
        [own] = account_receiver.wait_for(1)
        stripe_sandbox.control.deliveries(wait=5)

    assert receiver.received == []
    assert "account" not in json.loads(own.body)


def test_the_connected_accounts_own_endpoint_gets_the_event_without_account(
    stripe_sandbox, platform
):
    token = _connect(stripe_sandbox, platform)
    connected_client = stripe_sandbox.client(token["access_token"])
    with webhook_receiver() as platform_receiver, webhook_receiver() as account_receiver:
        platform.v1.webhook_endpoints.create(
            params={"url": platform_receiver.url, "enabled_events": ["*"], "connect": True}
        )
        connected_client.v1.webhook_endpoints.create(
            params={"url": account_receiver.url, "enabled_events": ["*"]}
        )
        customer = connected_client.v1.customers.create(params={"email": "a@b.example"})
        [to_platform] = platform_receiver.wait_for(1)
        [to_account] = account_receiver.wait_for(1)

    assert json.loads(to_platform.body)["account"] == token["stripe_user_id"]
    assert "account" not in json.loads(to_account.body)
    assert json.loads(to_account.body)["id"] == json.loads(to_platform.body)["id"]
    event = connected_client.v1.events.list(params={"type": "customer.created"}).data[0]
    assert event.data.object.id == customer.id and event.pending_webhooks == 0


def test_after_deauthorize_the_platform_gets_no_more_events(stripe_sandbox, platform):
    token = _connect(stripe_sandbox, platform)
    connected = token["stripe_user_id"]
    own_key = "sk_test_" + random_token(32)
    with webhook_receiver() as receiver:
        platform.v1.webhook_endpoints.create(
            params={"url": receiver.url, "enabled_events": ["*"], "connect": True}
        )
        stripe_sandbox.client(token["access_token"]).v1.customers.create(params={})
        receiver.wait_for(1)
        platform.oauth.deauthorize(params={"client_id": CLIENT_ID, "stripe_user_id": connected})
        # The account itself, through a key of its own (the platform's tokens are revoked).
        stripe_sandbox.control.register_key(own_key, account={"id": connected})
        stripe_sandbox.client(own_key).v1.customers.create(params={})
        stripe_sandbox.control.deliveries(wait=5)

    assert len(receiver.received) == 1


def test_connect_is_a_boolean_set_at_creation(platform):
    with pytest.raises(stripe.InvalidRequestError) as exc_info:
        platform.v1.webhook_endpoints.create(
            params={"url": "https://x.example/hooks", "enabled_events": ["*"], "connect": "maybe"}
        )
    assert exc_info.value.param == "connect"
    created = platform.v1.webhook_endpoints.create(
        params={"url": "https://x.example/hooks", "enabled_events": ["*"], "connect": True}
    )
    with pytest.raises(stripe.InvalidRequestError):  # not updatable, as on Stripe
        platform.v1.webhook_endpoints.update(created.id, params={"connect": False})


def test_an_account_connected_in_live_mode_sends_live_and_test_events_to_live_endpoints(
    stripe_sandbox,
):
    # Stripe: "Live mode only: the live Events and test Events are sent to your live Connect
    # webhook endpoint" (and nothing to the test one).
    live_key, test_key = "sk_live_" + random_token(32), "sk_test_" + random_token(32)
    client_id = "ca_" + "L" * 28
    registered = stripe_sandbox.control.register_platform(client_id, live_key)
    stripe_sandbox.control.register_key(test_key, account={"id": registered["account"]["id"]})
    live_platform = stripe_sandbox.client(live_key, client_id=client_id)
    token = _connect(stripe_sandbox, live_platform)
    assert token["livemode"] is True
    connected_test_key = "sk_test_" + random_token(32)
    stripe_sandbox.control.register_key(connected_test_key, account={"id": token["stripe_user_id"]})
    with webhook_receiver() as live_receiver, webhook_receiver() as test_receiver:
        live_platform.v1.webhook_endpoints.create(
            params={"url": live_receiver.url, "enabled_events": ["*"], "connect": True}
        )
        stripe_sandbox.client(test_key).v1.webhook_endpoints.create(
            params={"url": test_receiver.url, "enabled_events": ["*"], "connect": True}
        )
        stripe_sandbox.client(token["access_token"]).v1.customers.create(params={})
        stripe_sandbox.client(connected_test_key).v1.customers.create(params={})
        live_receiver.wait_for(2)
        stripe_sandbox.control.deliveries(wait=5)

    live_modes = sorted(json.loads(r.body)["livemode"] for r in live_receiver.received)
    assert live_modes == [False, True]
    assert test_receiver.received == []


def test_resend_reaches_the_connect_endpoint_again(stripe_sandbox, platform):
    token = _connect(stripe_sandbox, platform)
    with webhook_receiver() as receiver:
        endpoint = platform.v1.webhook_endpoints.create(
            params={"url": receiver.url, "enabled_events": ["customer.created"], "connect": True}
        )
        stripe_sandbox.client(token["access_token"]).v1.customers.create(params={})
        [first] = receiver.wait_for(1)
        event_id = json.loads(first.body)["id"]
        result = stripe_sandbox.control.resend_event(event_id)
        _, again = receiver.wait_for(2)

    assert result["endpoints"] == [endpoint.id]
    assert json.loads(again.body)["account"] == token["stripe_user_id"]
