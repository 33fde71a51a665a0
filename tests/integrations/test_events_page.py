"""The events page: filters, the payload, replay, and fetching what never arrived."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from integrations.hooks import stripe_event
from integrations.models import StripeEvent, WebhookEndpoint
from integrations.services import connection_create_from_key
from tests.factories import StripeConnectionFactory
from tests.integrations import recorder


@pytest.fixture(autouse=True)
def subscriber(monkeypatch):
    # Only the recorder hears the events: these tests are about intake and processing.
    monkeypatch.setattr(stripe_event, "_receivers", {"ledger": recorder.record})
    recorder.received.clear()
    recorder.fail_next.clear()


def _event(endpoint, event_id, type_, status="processed", days_ago=0):
    created = timezone.now() - dt.timedelta(days=days_ago)
    return StripeEvent.objects.create(
        endpoint=endpoint,
        event_id=event_id,
        type=type_,
        created=created,
        status=status,
        payload={"id": event_id, "object": "event", "type": type_, "data": {"object": {}}},
    )


@pytest.fixture
def endpoint(workspace):
    return WebhookEndpoint.objects.create(
        connection=StripeConnectionFactory(workspace=workspace), secret="whsec_x"
    )


def test_filters_by_type_status_and_date(endpoint, staff, as_user):
    _event(endpoint, "evt_a", "charge.succeeded")
    _event(endpoint, "evt_b", "customer.created", status="failed")
    _event(endpoint, "evt_c", "charge.refunded", days_ago=10)
    url = reverse("stripe_event_list", args=["acme"])
    client = as_user(staff)

    def shown(**query):
        html = client.get(url, query).content.decode()
        return {e for e in ("evt_a", "evt_b", "evt_c") if e in html}

    assert shown() == {"evt_a", "evt_b", "evt_c"}
    assert shown(type="charge") == {"evt_a", "evt_c"}
    assert shown(status="failed") == {"evt_b"}
    since = (timezone.now() - dt.timedelta(days=2)).date().isoformat()
    assert shown(since=since) == {"evt_a", "evt_b"}


def test_another_workspaces_events_are_invisible(
    endpoint, outsider, owner, as_user, other_workspace
):
    mine = _event(endpoint, "evt_mine", "charge.succeeded")
    theirs_endpoint = WebhookEndpoint.objects.create(
        connection=StripeConnectionFactory(workspace=other_workspace), secret="whsec_y"
    )
    theirs = _event(theirs_endpoint, "evt_theirs", "charge.succeeded")
    html = as_user(owner).get(reverse("stripe_event_list", args=["acme"])).content.decode()
    assert "evt_mine" in html and "evt_theirs" not in html
    url = reverse("stripe_event_detail", args=["acme", theirs.uuid])
    assert as_user(owner).get(url).status_code == 404
    url = reverse("stripe_event_detail", args=["acme", mine.uuid])
    assert as_user(outsider).get(url).status_code == 404


def test_the_detail_shows_the_payload_and_replays_a_failed_event_once(
    endpoint, owner, staff, as_user, django_capture_on_commit_callbacks
):
    event = _event(endpoint, "evt_f", "charge.succeeded", status="failed")
    page = as_user(owner).get(reverse("stripe_event_detail", args=["acme", event.uuid]))
    assert "&quot;evt_f&quot;" in page.content.decode() and "Replay" in page.content.decode()
    replay = reverse("stripe_event_replay", args=["acme", event.uuid])
    assert as_user(staff).post(replay).status_code == 403  # replay needs stripe=*
    with django_capture_on_commit_callbacks(execute=True):
        as_user(owner).post(replay)
    event.refresh_from_db()
    assert event.status == "processed" and recorder.received == ["evt_f"]
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(owner).post(replay, follow=True)
    assert "Only a failed event can be replayed" in response.content.decode()
    assert recorder.received == ["evt_f"]


def test_fetch_missed_events_takes_in_what_never_arrived(
    sandbox, workspace, owner, as_user, django_capture_on_commit_callbacks
):
    secret, publishable, _ = sandbox.new_account()
    connection = connection_create_from_key(
        workspace=workspace, secret_key=secret, publishable_key=publishable
    )
    client = sandbox.client(secret)
    # No endpoint was registered: these events were never delivered to the portal.
    client.v1.customers.create(params={"email": "a@example.com"})
    client.v1.customers.create(params={"email": "b@example.com"})
    url = reverse("stripe_events_fetch", args=["acme"])
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(owner).post(url, {"connection": str(connection.uuid)}, follow=True)
    assert "2 missed events taken in" in response.content.decode()
    stored = StripeEvent.objects.filter(type="customer.created")
    assert stored.count() == 2 and {e.status for e in stored} == {"processed"}
    assert {e.source for e in stored} == {"fetch"}
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(owner).post(url, {"connection": str(connection.uuid)}, follow=True)
    assert "No missed events" in response.content.decode()
    assert StripeEvent.objects.filter(type="customer.created").count() == 2
