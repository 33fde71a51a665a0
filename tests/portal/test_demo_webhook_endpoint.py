"""`manage.py demo_data --register-webhook` (what `python3 dev.py` runs): the demo connection's
webhook endpoint in the sandbox at SITE_URL, once, whatever the sandbox remembers."""

from __future__ import annotations

import io
import time
import uuid

import pytest
from django.core.management import call_command

import dev
from integrations.models import StripeEvent, WebhookEndpoint


@pytest.fixture
def demo_keys(sandbox, monkeypatch):
    """What `python3 dev.py` does before `manage.py demo_data`."""
    _register_keys(sandbox)
    monkeypatch.setenv("DEMO_STRIPE_SECRET_KEY", dev.DEMO_STRIPE_SECRET_KEY)
    monkeypatch.setenv("DEMO_STRIPE_PUBLISHABLE_KEY", dev.DEMO_STRIPE_PUBLISHABLE_KEY)


def _register_keys(sandbox):
    sandbox.control.register_key(
        dev.DEMO_STRIPE_SECRET_KEY,
        publishable_key=dev.DEMO_STRIPE_PUBLISHABLE_KEY,
        account=dev.DEMO_STRIPE_ACCOUNT,
    )


def _demo_data(**options) -> str:
    out = io.StringIO()
    call_command("demo_data", "--register-webhook", stdout=out, stderr=out, **options)
    return out.getvalue()


def _in_sandbox(sandbox) -> list:
    return sandbox.client(dev.DEMO_STRIPE_SECRET_KEY).v1.webhook_endpoints.list().data


def test_it_registers_the_endpoint_at_site_url_and_keeps_its_secret(
    sandbox, demo_keys, settings, db
):
    settings.SITE_URL = "http://127.0.0.1:8101"
    out = _demo_data()
    endpoint = WebhookEndpoint.objects.get()
    url = f"http://127.0.0.1:8101/hooks/stripe/{endpoint.uuid}/"
    assert [(e.id, e.url) for e in _in_sandbox(sandbox)] == [(endpoint.stripe_endpoint_id, url)]
    assert endpoint.secret.startswith("whsec_")
    assert f"Webhook endpoint: {url}" in out


def test_without_the_option_no_endpoint_is_registered(sandbox, demo_keys, db):
    call_command("demo_data", stdout=io.StringIO())
    assert _in_sandbox(sandbox) == []
    assert not WebhookEndpoint.objects.exclude(stripe_endpoint_id="").exists()


def test_running_again_on_another_port_moves_the_same_endpoint(sandbox, demo_keys, settings, db):
    settings.SITE_URL = "http://127.0.0.1:8101"
    _demo_data()
    _demo_data()  # a restart: nothing new
    first = WebhookEndpoint.objects.get()
    settings.SITE_URL = "http://127.0.0.1:8102"
    _demo_data()
    endpoint = WebhookEndpoint.objects.get()
    assert [(e.id, e.url) for e in _in_sandbox(sandbox)] == [
        (first.stripe_endpoint_id, f"http://127.0.0.1:8102/hooks/stripe/{endpoint.uuid}/")
    ]
    assert (endpoint.stripe_endpoint_id, endpoint.secret) == (
        first.stripe_endpoint_id,
        first.secret,
    )


def test_a_sandbox_that_lost_its_data_gets_the_endpoint_again(sandbox, demo_keys, settings, db):
    settings.SITE_URL = "http://127.0.0.1:8101"
    _demo_data()
    before = WebhookEndpoint.objects.get()
    sandbox.control.reset()  # the sandbox restarted without its data file
    _register_keys(sandbox)
    _demo_data()
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.uuid == before.uuid  # the same URL in the portal
    assert [(e.id, e.url) for e in _in_sandbox(sandbox)] == [
        (endpoint.stripe_endpoint_id, f"http://127.0.0.1:8101/hooks/stripe/{endpoint.uuid}/")
    ]
    assert endpoint.stripe_endpoint_id != before.stripe_endpoint_id
    assert endpoint.secret != before.secret and endpoint.previous_secret == before.secret


def test_endpoints_left_by_an_older_database_are_deleted_and_others_kept(
    sandbox, demo_keys, settings, db
):
    settings.SITE_URL = "http://127.0.0.1:8101"
    client = sandbox.client(dev.DEMO_STRIPE_SECRET_KEY)
    # The sandbox kept its data; the portal's database was deleted since.
    client.v1.webhook_endpoints.create(
        params={
            "url": f"http://127.0.0.1:8000/hooks/stripe/{uuid.uuid4()}/",
            "enabled_events": ["*"],
        }
    )
    foreign = client.v1.webhook_endpoints.create(
        params={"url": "https://example.com/someone-elses", "enabled_events": ["*"]}
    )
    _demo_data()
    endpoint = WebhookEndpoint.objects.get()
    assert sorted(e.id for e in _in_sandbox(sandbox)) == sorted(
        [foreign.id, endpoint.stripe_endpoint_id]
    )


@pytest.mark.django_db(transaction=True)
def test_a_declined_charge_reaches_the_portal_as_an_event(
    sandbox, demo_keys, settings, live_server
):
    settings.SITE_URL = live_server.url
    _demo_data()
    client = sandbox.client(dev.DEMO_STRIPE_SECRET_KEY)
    with pytest.raises(Exception, match="declined"):
        client.v1.payment_intents.create(
            params={
                "amount": 1500,
                "currency": "usd",
                "payment_method": "pm_card_chargeDeclined",
                "confirm": True,
                "payment_method_types": ["card"],
            }
        )
    deadline = time.monotonic() + 10
    while (
        time.monotonic() < deadline
        and not StripeEvent.objects.filter(type="payment_intent.payment_failed").exists()
    ):
        time.sleep(0.1)
    event = StripeEvent.objects.filter(type="payment_intent.payment_failed").first()
    assert event is not None, sandbox.control.deliveries(wait=1)
    assert event.endpoint == WebhookEndpoint.objects.get()
