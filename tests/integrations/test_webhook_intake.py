"""Webhook intake: verification fails closed, every event is stored once and processed once."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.urls import reverse

from integrations.events import event_replay
from integrations.hooks import stripe_event
from integrations.models import StripeEvent, WebhookEndpoint
from tests.factories import StripeConnectionFactory
from tests.integrations import recorder
from tests.integrations.webhook_helpers import event_body, signature

SECRET = "whsec_test_current_secret_value"
OLD_SECRET = "whsec_test_previous_secret_value"


@pytest.fixture(autouse=True)
def subscriber(monkeypatch):
    # Only the recorder hears the events: these tests are about intake and processing.
    monkeypatch.setattr(stripe_event, "_receivers", {"ledger": recorder.record})
    recorder.received.clear()
    recorder.fail_next.clear()
    return recorder


@pytest.fixture
def endpoint(workspace):
    connection = StripeConnectionFactory(workspace=workspace)
    return WebhookEndpoint.objects.create(connection=connection, secret=SECRET)


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    """Deliver like Stripe; work enqueued on commit runs (django-q2 is in sync mode)."""

    def deliver(endpoint, body: bytes, header: str | None):
        headers = {} if header is None else {"HTTP_STRIPE_SIGNATURE": header}
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                reverse("stripe_webhook", args=[endpoint.uuid]),
                data=body,
                content_type="application/json",
                **headers,
            )

    return deliver


def test_a_signed_event_is_stored_answered_and_processed(post, endpoint):
    body = event_body("evt_ok")
    response = post(endpoint, body, signature(body, SECRET))
    assert response.status_code == 200
    event = StripeEvent.objects.get()
    assert (event.event_id, event.type, event.status) == ("evt_ok", "charge.succeeded", "processed")
    assert recorder.received == ["evt_ok"]
    assert event.trigger_output()["data"]["object"]["amount"] == 4999
    assert set(event.trigger_output()) == {
        "id", "type", "api_version", "created", "livemode", "data", "request"
    }  # fmt: skip


@pytest.mark.parametrize(
    "case",
    ["no header", "malformed", "wrong secret", "v0 only", "too old", "tampered body", "not json"],
)
def test_a_delivery_that_is_not_provably_from_stripe_is_refused_and_not_stored(
    post, endpoint, case
):
    body = event_body("evt_bad")
    header = {
        "no header": None,
        "malformed": "this is not a signature",
        "wrong secret": signature(body, "whsec_someone_else"),
        "v0 only": signature(body, SECRET).replace("v1=", "v0="),
        "too old": signature(body, SECRET, at=int(time.time()) - 301),
        "tampered body": signature(body, SECRET),
        "not json": signature(b"hello", SECRET),
    }[case]
    if case == "tampered body":
        body = body.replace(b"4999", b"1")
    if case == "not json":
        body = b"hello"
    response = post(endpoint, body, header)
    assert response.status_code == 400
    assert not StripeEvent.objects.exists()
    assert recorder.received == []


def test_an_endpoint_without_a_secret_refuses_everything(post, endpoint):
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(secret="")
    body = event_body()
    assert post(endpoint, body, signature(body, "")).status_code == 400
    assert not StripeEvent.objects.exists()


def test_an_unknown_endpoint_is_404(client, db):
    body = event_body()
    response = client.post(
        "/hooks/stripe/00000000-0000-0000-0000-000000000000/",
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature(body, SECRET),
    )
    assert response.status_code == 404


def test_during_secret_rotation_any_matching_v1_signature_is_accepted(post, endpoint):
    body = event_body("evt_rot")
    wrong = signature(body, "whsec_rolled_out").split(",")[1]
    header = f"{signature(body, SECRET)},{wrong}"
    assert post(endpoint, body, header).status_code == 200
    endpoint.secret, endpoint.previous_secret = "whsec_brand_new", SECRET
    endpoint.save()
    body = event_body("evt_rot2")
    assert post(endpoint, body, signature(body, SECRET)).status_code == 200
    assert StripeEvent.objects.count() == 2


def test_a_live_event_on_a_test_connection_is_refused(post, endpoint):
    body = event_body("evt_live", livemode=True)
    assert post(endpoint, body, signature(body, SECRET)).status_code == 400
    assert not StripeEvent.objects.exists()


def test_50_sequential_duplicates_store_and_process_one_event(post, endpoint):
    body = event_body("evt_dup")
    answers = {post(endpoint, body, signature(body, SECRET)).status_code for _ in range(50)}
    assert answers == {200}
    assert StripeEvent.objects.filter(event_id="evt_dup").count() == 1
    assert recorder.received == ["evt_dup"]


def test_a_failed_event_is_processed_exactly_once_by_a_later_delivery(post, endpoint):
    recorder.fail_next.append("evt_fail")
    body = event_body("evt_fail")
    assert post(endpoint, body, signature(body, SECRET)).status_code == 200
    event = StripeEvent.objects.get()
    assert event.status == "failed" and "failed on purpose" in event.error
    assert recorder.received == []
    for _ in range(3):  # Stripe redelivers: processed once, then dropped as duplicates
        assert post(endpoint, body, signature(body, SECRET)).status_code == 200
    event.refresh_from_db()
    assert event.status == "processed" and event.attempts == 2 and event.error == ""
    assert recorder.received == ["evt_fail"]


def test_the_replay_button_processes_a_failed_event_once(
    endpoint, django_capture_on_commit_callbacks, post
):
    recorder.fail_next.append("evt_replay")
    body = event_body("evt_replay")
    post(endpoint, body, signature(body, SECRET))
    event = StripeEvent.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        event_replay(event=event)
    with pytest.raises(ValueError):
        event.refresh_from_db()
        event_replay(event=event)
    assert recorder.received == ["evt_replay"]


@pytest.mark.django_db(transaction=True)
def test_20_concurrent_copies_store_one_event(live_server, workspace, subscriber):
    connection = StripeConnectionFactory(workspace=workspace)
    endpoint = WebhookEndpoint.objects.create(connection=connection, secret=SECRET)
    body = event_body("evt_race")
    url = live_server.url + reverse("stripe_webhook", args=[endpoint.uuid])
    header = signature(body, SECRET)

    def deliver(_):
        return requests.post(
            url, data=body, headers={"Stripe-Signature": header}, timeout=30
        ).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(deliver, range(20)))
    assert statuses == [200] * 20
    assert StripeEvent.objects.filter(event_id="evt_race").count() == 1
    assert recorder.received == ["evt_race"]
