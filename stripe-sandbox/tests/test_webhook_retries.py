"""Webhook endpoint limit, delivery retries and resending events."""

from __future__ import annotations

import json

import pytest
import stripe

from stripe_sandbox.control import SandboxControlError

from .helpers import webhook_receiver


@pytest.fixture
def client(stripe_sandbox):
    secret, _, _ = stripe_sandbox.new_account()
    return stripe_sandbox.client(secret)


def test_at_most_16_endpoints_per_account(stripe_sandbox, client):
    created = [
        client.v1.webhook_endpoints.create(
            params={"url": f"https://portal.example/hooks/{i}", "enabled_events": ["*"]}
        )
        for i in range(16)
    ]
    listed = client.v1.webhook_endpoints.list(params={"limit": 100})
    assert len(listed.data) == 16 and listed.has_more is False
    assert [e.id for e in listed.data] == [e.id for e in reversed(created)]

    with pytest.raises(stripe.InvalidRequestError) as exc_info:
        client.v1.webhook_endpoints.create(
            params={"url": "https://portal.example/hooks/17", "enabled_events": ["*"]}
        )
    assert exc_info.value.http_status == 400
    assert "You have reached the maximum of 16 test webhook endpoints." in str(exc_info.value)

    # Another account has its own 16; deleting one frees a place.
    other_secret, _, _ = stripe_sandbox.new_account()
    stripe_sandbox.client(other_secret).v1.webhook_endpoints.create(
        params={"url": "https://portal.example/hooks/x", "enabled_events": ["*"]}
    )
    client.v1.webhook_endpoints.delete(created[0].id)
    client.v1.webhook_endpoints.create(
        params={"url": "https://portal.example/hooks/17", "enabled_events": ["*"]}
    )


def test_failed_delivery_is_retried_until_it_succeeds(stripe_sandbox, client):
    stripe_sandbox.control.set_webhook_retries([0.05, 0.1, 0.1])
    with webhook_receiver() as receiver:
        receiver.statuses = [500, 500]
        endpoint = client.v1.webhook_endpoints.create(
            params={"url": receiver.url, "enabled_events": ["customer.created"]}
        )
        customer = client.v1.customers.create(params={"email": "r@x.example"})
        receiver.wait_for(3)
        stripe_sandbox.control.deliveries(wait=5)

    log = stripe_sandbox.control.deliveries()
    assert [(d["attempt"], d["status"]) for d in log] == [(1, 500), (2, 500), (3, 200)]
    assert {d["endpoint"] for d in log} == {endpoint.id}
    assert len({d["event"] for d in log}) == 1
    # Every attempt carried the same signed event.
    bodies = {r.body for r in receiver.received}
    assert len(bodies) == 1
    event = stripe.Webhook.construct_event(
        receiver.received[-1].body,
        receiver.received[-1].headers["Stripe-Signature"],
        endpoint.secret,
    )
    assert event.data.object.id == customer.id
    assert client.v1.events.retrieve(event.id).pending_webhooks == 0


def test_retries_give_up_after_the_last_delay(stripe_sandbox, client):
    assert stripe_sandbox.control.set_webhook_retries([0.01, 0.02]) == [0.01, 0.02]
    client.v1.webhook_endpoints.create(
        params={"url": "http://127.0.0.1:9/nothing-listens", "enabled_events": ["*"]}
    )
    client.v1.customers.create(params={"email": "r@x.example"})
    log = stripe_sandbox.control.deliveries(wait=5)
    assert [d["attempt"] for d in log] == [1, 2, 3]
    assert all(d["status"] is None and d["error"] for d in log)
    [event] = client.v1.events.list().data
    assert event.pending_webhooks == 1

    with pytest.raises(SandboxControlError):
        stripe_sandbox.control.set_webhook_retries(["soon"])


def test_default_retry_delays_and_no_retries(stripe_sandbox, client):
    with webhook_receiver() as receiver:
        receiver.status = 400
        client.v1.webhook_endpoints.create(
            params={"url": receiver.url, "enabled_events": ["customer.created"]}
        )
        stripe_sandbox.control.set_webhook_retries([])
        client.v1.customers.create(params={"email": "a@x.example"})
        assert [d["attempt"] for d in stripe_sandbox.control.deliveries(wait=5)] == [1]

        stripe_sandbox.control.reset()  # back to the defaults (0.2, 0.5, 1 s)
        secret, _, _ = stripe_sandbox.new_account()
        again = stripe_sandbox.client(secret)
        again.v1.webhook_endpoints.create(
            params={"url": receiver.url, "enabled_events": ["customer.created"]}
        )
        again.v1.customers.create(params={"email": "b@x.example"})
        log = stripe_sandbox.control.deliveries(wait=5)
    assert [d["attempt"] for d in log] == [1, 2, 3, 4]
    gaps = [b["created"] - a["created"] for a, b in zip(log, log[1:], strict=False)]
    assert gaps[0] >= 0.19 and gaps[1] >= 0.49 and gaps[2] >= 0.99


def test_resend_delivers_the_same_event_again(stripe_sandbox, client):
    with webhook_receiver() as receiver:
        endpoint = client.v1.webhook_endpoints.create(
            params={"url": receiver.url, "enabled_events": ["customer.created"]}
        )
        client.v1.customers.create(params={"email": "d@x.example"})
        [first] = receiver.wait_for(1)
        event_id = json.loads(first.body)["id"]

        result = stripe_sandbox.control.resend_event(event_id)
        assert result["endpoints"] == [endpoint.id]
        received = receiver.wait_for(2)
        stripe_sandbox.control.resend_event(event_id, endpoint=endpoint.id)
        received = receiver.wait_for(3)
        log = stripe_sandbox.control.deliveries(wait=5)

    ids = {json.loads(r.body)["id"] for r in received}
    assert ids == {event_id}
    for delivery in received:
        stripe.Webhook.construct_event(
            delivery.body, delivery.headers["Stripe-Signature"], endpoint.secret
        )
    assert [d["resend"] for d in log] == [False, True, True]
    with pytest.raises(SandboxControlError) as exc_info:
        stripe_sandbox.control.resend_event("evt_unknown")
    assert exc_info.value.status == 404
