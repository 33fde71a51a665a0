"""The webhook intake under hostile input: malformed bodies (not JSON, not UTF-8, wrong shapes,
oversized), missing, garbled or foreign signatures, stale timestamps, unknown endpoints. Each
is answered 400 (404 for an unknown endpoint) and stores nothing; a correctly signed body is
stored only when it has the shape of a Stripe event, and then whole."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from integrations.models import StripeEvent, WebhookEndpoint
from tests.factories import StripeConnectionFactory
from tests.integrations.webhook_helpers import EVENT, event_body, signature
from tests.reliability.conftest import HOOK_SECRET, example_savepoint
from tests.reliability.hostile import HOSTILE, text

pytestmark = pytest.mark.django_db

# No floats: Stripe sends none, and PostgreSQL's jsonb keeps their decimal text, not the float.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=12,
)


@pytest.fixture
def endpoint(workspace):
    connection = StripeConnectionFactory(workspace=workspace)
    return WebhookEndpoint.objects.create(connection=connection, secret=HOOK_SECRET)


def _deliver(client, endpoint_uuid, body: bytes, header: str | None):
    headers = {} if header is None else {"HTTP_STRIPE_SIGNATURE": header}
    return client.post(f"/hooks/stripe/{endpoint_uuid}/", body, "application/json", **headers)


def _garble(header: str, position: int, char: str) -> str:
    position %= len(header)
    return header[:position] + char + header[position + 1 :]


headers = st.one_of(
    st.none(),
    text,
    st.builds(
        _garble,
        st.just(signature(event_body("evt_h"), HOOK_SECRET)),
        st.integers(),
        st.characters(blacklist_categories=["Cs"]),
    ),  # fmt: skip
    st.sampled_from(["t=,v1=", "t=abc,v1=00", "v1=00", "t=1", ",,,", "t=1,v1=é", "=" * 300]),
)


@HOSTILE
@given(body=st.one_of(st.binary(max_size=500), text.map(str.encode)), header=headers)
@example(body=b"\xff\xfe{", header=signature(b"\xff\xfe{", HOOK_SECRET))
@example(body=event_body("evt_h"), header="t=1,v1=é")
def test_an_unsigned_or_garbled_delivery_is_400_and_stores_nothing(client, endpoint, body, header):
    response = _deliver(client, endpoint.uuid, body, header)
    assert response.status_code == 400
    assert not StripeEvent.objects.exists()


@HOSTILE
@given(payload=json_values)
def test_a_signed_body_that_is_not_an_event_is_400_and_stores_nothing(client, endpoint, payload):
    body = json.dumps(payload).encode()
    response = _deliver(client, endpoint.uuid, body, signature(body, HOOK_SECRET))
    assert response.status_code == 400
    assert not StripeEvent.objects.exists()


ODD = {  # a field of a signed event, and a value Stripe never sends there
    "id": [None, "", 42, ["evt_1"], "e" * 256], "type": [None, "", 7, "t" * 101],
    "created": [None, "1700000000", 1.5, True, -1, 10**20], "livemode": [None, "false", 0],
    "data": [None, [], {"object": "ch_1"}, {}], "api_version": [3, "v" * 51],
    "object": ["charge", None], "request": [{"id": "req\x00"}],
}  # fmt: skip


@HOSTILE
@given(
    change=st.sampled_from(sorted(ODD)).flatmap(
        lambda key: st.tuples(st.just(key), st.sampled_from(ODD[key]) | json_values)
    ),
    drop=st.booleans(),
)
def test_a_signed_event_is_stored_whole_or_refused(client, endpoint, change, drop):
    key, value = change
    event = {**EVENT, "id": "evt_odd", "created": int(time.time()), key: value}
    if drop:
        del event[key]
    body = json.dumps(event).encode()
    with example_savepoint():
        response = _deliver(client, endpoint.uuid, body, signature(body, HOOK_SECRET))
        assert response.status_code in (200, 400)
        if response.status_code == 400:
            assert not StripeEvent.objects.exists()
        else:  # Stripe's own shape: it is stored as it came, in columns it fits
            assert event["object"] == "event" and type(event["created"]) is int
            assert isinstance(event["id"], str) and isinstance(event["type"], str)
            assert isinstance(event["livemode"], bool) and isinstance(event["data"], dict)
            stored = StripeEvent.objects.get()
            stored.full_clean(validate_constraints=False)
            assert stored.payload == event and stored.event_id == event["id"]


@pytest.mark.parametrize(
    "key, value", [(key, value) for key, values in ODD.items() for value in values]
)
def test_each_odd_field_of_a_signed_event_is_refused(client, endpoint, key, value):
    body = event_body("evt_odd", **{key: value})
    response = _deliver(client, endpoint.uuid, body, signature(body, HOOK_SECRET))
    assert response.status_code == 400 and not StripeEvent.objects.exists()


@HOSTILE
@given(age=st.integers(min_value=301, max_value=10**12))
def test_a_signature_older_than_the_tolerance_is_refused(client, endpoint, age):
    body = event_body("evt_old")
    header = signature(body, HOOK_SECRET, at=int(time.time()) - age)
    assert _deliver(client, endpoint.uuid, body, header).status_code == 400
    assert not StripeEvent.objects.exists()


@HOSTILE
@given(endpoint_uuid=st.uuids())
def test_an_unknown_endpoint_is_404_and_stores_nothing(client, endpoint, endpoint_uuid):
    body = event_body("evt_lost")
    response = _deliver(client, endpoint_uuid, body, signature(body, HOOK_SECRET))
    assert response.status_code == 404 and not StripeEvent.objects.exists()


def test_a_body_over_the_upload_limit_is_400_and_stores_nothing(client, endpoint, settings):
    padding = "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    body = event_body("evt_big", data={"object": {"id": "ch_1", "object": "charge", "x": padding}})
    response = _deliver(client, endpoint.uuid, body, signature(body, HOOK_SECRET))
    assert response.status_code == 400 and not StripeEvent.objects.exists()


def test_a_signature_made_with_another_secret_is_refused(client, endpoint):
    body = event_body("evt_foreign")
    header = signature(body, f"whsec_{uuid.uuid4().hex}")
    assert _deliver(client, endpoint.uuid, body, header).status_code == 400
    assert not StripeEvent.objects.exists()
