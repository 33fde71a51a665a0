"""Idempotency-Key replay, like Stripe's."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

import pytest
import stripe


def _post(sandbox, secret, path, params, key):
    """A raw POST, to see status, headers and body exactly."""
    request = urllib.request.Request(
        sandbox.url + path,
        data=urllib.parse.urlencode(params).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {secret}", "Idempotency-Key": key},
    )
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_same_key_and_parameters_replay_the_first_response(stripe_sandbox):
    secret, _, _ = stripe_sandbox.new_account()
    params = {"email": "a@example.com", "metadata[invoice]": "INV-1"}

    status1, headers1, body1 = _post(stripe_sandbox, secret, "/v1/customers", params, "key-1")
    status2, headers2, body2 = _post(stripe_sandbox, secret, "/v1/customers", params, "key-1")

    assert (status1, status2) == (200, 200)
    assert body1 == body2
    assert "Idempotent-Replayed" not in headers1
    assert headers2["Idempotent-Replayed"] == "true"
    client = stripe_sandbox.client(secret)
    assert len(client.v1.customers.list().data) == 1


def test_same_key_with_other_parameters_is_an_idempotency_error(stripe_sandbox):
    secret, _, _ = stripe_sandbox.new_account()
    client = stripe_sandbox.client(secret)
    client.v1.customers.create(
        params={"email": "a@example.com"}, options={"idempotency_key": "key-2"}
    )

    with pytest.raises(stripe.IdempotencyError) as info:
        client.v1.customers.create(
            params={"email": "b@example.com"}, options={"idempotency_key": "key-2"}
        )

    assert info.value.http_status == 400
    error = info.value.json_body["error"]
    assert error["type"] == "idempotency_error"
    assert error["message"].startswith(
        "Keys for idempotent requests can only be used with the same parameters they were "
        "first used with."
    )


def test_same_key_on_another_endpoint_is_an_idempotency_error(stripe_sandbox):
    secret, _, _ = stripe_sandbox.new_account()
    client = stripe_sandbox.client(secret)
    client.v1.customers.create(params={"email": "a@example.com"}, options={"idempotency_key": "k"})
    with pytest.raises(stripe.IdempotencyError):
        client.v1.products.create(params={"name": "x"}, options={"idempotency_key": "k"})


def test_errors_are_replayed_too(stripe_sandbox):
    secret, _, _ = stripe_sandbox.new_account()
    params = {
        "amount": "1000",
        "currency": "usd",
        "payment_method": "pm_card_chargeDeclined",
        "confirm": "true",
    }

    first = _post(stripe_sandbox, secret, "/v1/payment_intents", params, "declined-1")
    second = _post(stripe_sandbox, secret, "/v1/payment_intents", params, "declined-1")

    assert first[0] == second[0] == 402
    assert first[2] == second[2]
    assert second[1]["Idempotent-Replayed"] == "true"
    intents = stripe_sandbox.client(secret).v1.payment_intents.list().data
    assert len(intents) == 1


def test_a_500_before_execution_is_not_stored(stripe_sandbox):
    secret, _, _ = stripe_sandbox.new_account()
    client = stripe_sandbox.client(secret)
    stripe_sandbox.control.inject_fault(method="POST", path="/v1/customers", kind="500")

    with pytest.raises(stripe.APIError):
        client.v1.customers.create(params={"email": "a@x.com"}, options={"idempotency_key": "k5"})
    customer = client.v1.customers.create(
        params={"email": "a@x.com"}, options={"idempotency_key": "k5"}
    )

    assert customer.email == "a@x.com"
    assert [r["replayed"] for r in stripe_sandbox.control.requests("/v1/customers")] == [
        False,
        False,
    ]


def test_a_500_after_execution_began_is_stored_and_replayed(stripe_sandbox):
    secret, _, _ = stripe_sandbox.new_account()
    stripe_sandbox.control.inject_fault(
        method="POST", path="/v1/customers", kind="500_after_execution"
    )
    params = {"email": "a@x.com"}

    first = _post(stripe_sandbox, secret, "/v1/customers", params, "k500")
    second = _post(stripe_sandbox, secret, "/v1/customers", params, "k500")

    assert first[0] == second[0] == 500
    assert json.loads(second[2])["error"]["type"] == "api_error"
    assert second[1]["Idempotent-Replayed"] == "true"
    # The customer was made all the same: only a look tells the client so.
    customers = stripe_sandbox.client(secret).v1.customers.list().data
    assert [c.email for c in customers] == ["a@x.com"]


def test_a_request_that_failed_validation_is_not_stored(stripe_sandbox):
    secret, _, _ = stripe_sandbox.new_account()
    bad = {"currency": "usd"}
    good = {"amount": "1000", "currency": "usd"}

    refused = _post(stripe_sandbox, secret, "/v1/payment_intents", bad, "kv")
    corrected = _post(stripe_sandbox, secret, "/v1/payment_intents", good, "kv")
    again = _post(stripe_sandbox, secret, "/v1/payment_intents", good, "kv")

    assert refused[0] == 400
    assert json.loads(refused[2])["error"]["type"] == "invalid_request_error"
    assert corrected[0] == 200
    assert json.loads(corrected[2])["amount"] == 1000
    assert again[1]["Idempotent-Replayed"] == "true"


def test_keys_longer_than_255_characters_are_refused(stripe_sandbox):
    secret, _, _ = stripe_sandbox.new_account()

    longest = _post(stripe_sandbox, secret, "/v1/customers", {}, "k" * 255)
    too_long = _post(stripe_sandbox, secret, "/v1/customers", {}, "k" * 256)

    assert longest[0] == 200
    assert too_long[0] == 400
    error = json.loads(too_long[2])["error"]
    assert error["type"] == "invalid_request_error"
    assert "255" in error["message"]
    assert len(stripe_sandbox.client(secret).v1.customers.list().data) == 1


def test_rate_limited_requests_are_not_stored(stripe_sandbox):
    secret, _, _ = stripe_sandbox.new_account()
    client = stripe_sandbox.client(secret)
    stripe_sandbox.control.inject_fault(method="POST", path="/v1/customers", kind="429")

    with pytest.raises(stripe.RateLimitError):
        client.v1.customers.create(params={"email": "a@x.com"}, options={"idempotency_key": "k"})
    client.v1.customers.create(params={"email": "a@x.com"}, options={"idempotency_key": "k"})

    assert len(client.v1.customers.list().data) == 1


def test_keys_are_scoped_per_account(stripe_sandbox):
    secret_a, _, _ = stripe_sandbox.new_account()
    secret_b, _, _ = stripe_sandbox.new_account()

    a = stripe_sandbox.client(secret_a).v1.customers.create(
        params={"email": "a@x.com"}, options={"idempotency_key": "shared"}
    )
    b = stripe_sandbox.client(secret_b).v1.customers.create(
        params={"email": "b@x.com"}, options={"idempotency_key": "shared"}
    )

    assert a.id != b.id
    assert b.email == "b@x.com"


def test_a_request_in_flight_with_the_same_key_gets_409(stripe_sandbox):
    import threading

    secret, _, _ = stripe_sandbox.new_account()
    stripe_sandbox.control.inject_fault(
        method="POST", path="/v1/customers", kind="delay", delay=0.5
    )
    params = {"email": "a@x.com"}
    results = []
    slow = threading.Thread(
        target=lambda: results.append(_post(stripe_sandbox, secret, "/v1/customers", params, "k"))
    )
    slow.start()
    import time

    time.sleep(0.2)
    status, _, body = _post(stripe_sandbox, secret, "/v1/customers", params, "k")
    slow.join()

    assert status == 409
    assert json.loads(body)["error"]["type"] == "idempotency_error"
    assert results[0][0] == 200
