"""Registering the webhook endpoint in Stripe, and Stripe's signed deliveries reaching us."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from integrations.models import StripeEvent, WebhookEndpoint
from integrations.services import connection_create_from_key, webhook_endpoint_register


@pytest.fixture
def connection(sandbox, workspace):
    secret, publishable, _ = sandbox.new_account(name="Acme Dental")
    return connection_create_from_key(
        workspace=workspace, secret_key=secret, publishable_key=publishable
    )


def test_register_creates_the_endpoint_once_and_keeps_the_secret(
    sandbox, connection, owner, as_user
):
    url = reverse("stripe_connection_webhooks", args=["acme", connection.uuid])
    page = as_user(owner).get(url).content.decode()
    assert "0 of Stripe's 16" in page
    for _ in range(2):  # a second click does not make a second endpoint
        assert as_user(owner).post(url, {"action": "register"}).status_code == 302
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.stripe_endpoint_id.startswith("we_") and endpoint.secret.startswith("whsec_")
    posts = sandbox.control.requests(path="/v1/webhook_endpoints", method="POST")
    assert len(posts) == 1
    assert posts[0]["params"]["url"].endswith(f"/hooks/stripe/{endpoint.uuid}/")
    page = as_user(owner).get(url).content.decode()
    assert "1 of Stripe's 16" in page
    assert endpoint.secret not in page  # the secret is never shown


def test_a_full_account_gets_a_clear_message_and_nothing_is_created(
    sandbox, connection, owner, as_user
):
    client = sandbox.client(connection.secret_key)
    for n in range(16):
        client.v1.webhook_endpoints.create(
            params={"url": f"https://example.com/{n}", "enabled_events": ["*"]}
        )
    url = reverse("stripe_connection_webhooks", args=["acme", connection.uuid])
    response = as_user(owner).post(url, {"action": "register"}, follow=True)
    assert "uses all 16 of its webhook endpoints" in response.content.decode()
    assert not WebhookEndpoint.objects.exclude(stripe_endpoint_id="").exists()


def test_a_pasted_secret_is_kept_and_the_old_one_still_verifies(
    sandbox, connection, owner, as_user
):
    url = reverse("stripe_connection_webhooks", args=["acme", connection.uuid])
    bad = as_user(owner).post(url, {"action": "paste", "secret": "not-a-secret"})
    assert "A signing secret starts with whsec_" in bad.content.decode()
    assert not any(e.secret for e in WebhookEndpoint.objects.all())
    as_user(owner).post(url, {"action": "paste", "secret": "whsec_first_secret_value"})
    as_user(owner).post(url, {"action": "paste", "secret": "whsec_second_secret_value"})
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret == "whsec_second_secret_value"
    assert endpoint.previous_secret == "whsec_first_secret_value"


@pytest.mark.django_db(transaction=True)
def test_stripe_deliveries_reach_the_registered_endpoint_and_are_stored_once(
    sandbox, live_server, settings, workspace
):
    settings.SITE_URL = live_server.url
    secret, publishable, _ = sandbox.new_account(name="Acme Dental")
    connection = connection_create_from_key(
        workspace=workspace, secret_key=secret, publishable_key=publishable
    )
    webhook_endpoint_register(connection=connection)
    customer = sandbox.client(secret).v1.customers.create(params={"email": "jane@example.com"})
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        stored = StripeEvent.objects.filter(type="customer.created")
        if stored.exists():
            break
        time.sleep(0.1)
    deliveries = sandbox.control.deliveries(wait=5)
    assert StripeEvent.objects.filter(type="customer.created").exists(), deliveries
    event = StripeEvent.objects.get(type="customer.created")
    assert event.payload["data"]["object"]["id"] == customer.id
    deliveries = sandbox.control.deliveries(wait=5)
    assert all(d["status"] == 200 for d in deliveries if d["type"] == "customer.created")
