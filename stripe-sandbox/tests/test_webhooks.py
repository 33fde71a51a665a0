"""Webhook endpoints and signed delivery of events."""

from __future__ import annotations

import json

import pytest
import stripe

from .helpers import webhook_receiver


@pytest.fixture
def account(stripe_sandbox):
    secret, _, acct = stripe_sandbox.new_account()
    return stripe_sandbox.client(secret), acct


def _pay(client, pm="pm_card_visa"):
    return client.v1.payment_intents.create(
        params={"amount": 1000, "currency": "usd", "payment_method": pm, "confirm": True}
    )


def test_endpoint_crud_and_secret_only_on_creation(account):
    client, _ = account
    created = client.v1.webhook_endpoints.create(
        params={
            "url": "https://portal.example/hooks/stripe",
            "enabled_events": ["charge.succeeded", "charge.failed"],
            "description": "portal",
            "metadata": {"connection": "7"},
        }
    )
    assert created.id.startswith("we_")
    assert created.object == "webhook_endpoint"
    assert created.secret.startswith("whsec_")
    assert created.status == "enabled"
    assert created.enabled_events == ["charge.succeeded", "charge.failed"]

    retrieved = client.v1.webhook_endpoints.retrieve(created.id)
    assert "secret" not in retrieved
    assert retrieved.url == "https://portal.example/hooks/stripe"
    assert retrieved.metadata.to_dict() == {"connection": "7"}
    assert [e.id for e in client.v1.webhook_endpoints.list().data] == [created.id]

    updated = client.v1.webhook_endpoints.update(
        created.id, params={"enabled_events": ["*"], "disabled": True, "description": "new"}
    )
    assert updated.enabled_events == ["*"]
    assert updated.status == "disabled"
    assert updated.description == "new"

    deleted = client.v1.webhook_endpoints.delete(created.id)
    assert deleted.deleted is True
    assert client.v1.webhook_endpoints.list().data == []


def test_endpoint_requires_url_and_events(account):
    client, _ = account
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.webhook_endpoints.create(params={"url": "ftp://x", "enabled_events": ["*"]})
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.webhook_endpoints.create(params={"url": "https://x.example"})


def test_events_are_delivered_signed_like_stripe(stripe_sandbox, account):
    client, acct = account
    with webhook_receiver() as receiver:
        endpoint = client.v1.webhook_endpoints.create(
            params={"url": receiver.url, "enabled_events": ["*"]}
        )
        intent = _pay(client)
        received = receiver.wait_for(3)  # payment_intent.created, charge.succeeded, p_i.succeeded

    events = []
    for delivery in received:
        header = delivery.headers["Stripe-Signature"]
        assert header.startswith("t=") and ",v1=" in header
        event = stripe.Webhook.construct_event(delivery.body, header, endpoint.secret)
        events.append(event)
        assert event.object == "event"
        assert delivery.path == "/hooks/stripe"
    types = [e.type for e in events]
    assert types == ["payment_intent.created", "charge.succeeded", "payment_intent.succeeded"]
    succeeded = events[2]
    assert succeeded.data.object.id == intent.id
    assert succeeded.data.object.latest_charge == intent.latest_charge
    assert succeeded.pending_webhooks == 1
    assert succeeded.request.idempotency_key
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(
            received[0].body, received[0].headers["Stripe-Signature"], "whsec_wrong"
        )

    log = stripe_sandbox.control.deliveries(wait=5)
    assert [(d["type"], d["status"], d["endpoint"]) for d in log] == [
        (t, 200, endpoint.id) for t in types
    ]
    assert {d["account"] for d in log} == {acct["id"]}
    # Delivered: no longer pending.
    assert client.v1.events.retrieve(succeeded.id).pending_webhooks == 0


def test_only_enabled_events_of_enabled_endpoints_of_the_account(stripe_sandbox, account):
    client, _ = account
    other_secret, _, _ = stripe_sandbox.new_account()
    other = stripe_sandbox.client(other_secret)
    with webhook_receiver() as receiver, webhook_receiver() as other_receiver:
        client.v1.webhook_endpoints.create(
            params={"url": receiver.url, "enabled_events": ["charge.failed"]}
        )
        disabled = client.v1.webhook_endpoints.create(
            params={"url": receiver.url, "enabled_events": ["*"]}
        )
        client.v1.webhook_endpoints.update(disabled.id, params={"disabled": True})
        other.v1.webhook_endpoints.create(
            params={"url": other_receiver.url, "enabled_events": ["*"]}
        )

        _pay(client)
        with pytest.raises(stripe.CardError):
            _pay(client, "pm_card_chargeDeclined")
        [delivery] = receiver.wait_for(1)
        stripe_sandbox.control.deliveries(wait=5)

    assert json.loads(delivery.body)["type"] == "charge.failed"
    assert len(receiver.received) == 1
    assert other_receiver.received == []


def test_failed_deliveries_are_logged(stripe_sandbox, account):
    client, _ = account
    with webhook_receiver() as receiver:
        receiver.status = 500
        client.v1.webhook_endpoints.create(
            params={"url": receiver.url, "enabled_events": ["customer.created"]}
        )
        client.v1.webhook_endpoints.create(
            params={"url": "http://127.0.0.1:9/nothing-listens", "enabled_events": ["*"]}
        )
        client.v1.customers.create(params={"email": "a@x.com"})
        log = stripe_sandbox.control.deliveries(wait=5)

    by_url = {d["url"]: d for d in log}
    assert by_url[receiver.url]["status"] == 500
    unreachable = by_url["http://127.0.0.1:9/nothing-listens"]
    assert unreachable["status"] is None and unreachable["error"]
    [event] = client.v1.events.list(params={"type": "customer.created"}).data
    assert event.pending_webhooks == 2
