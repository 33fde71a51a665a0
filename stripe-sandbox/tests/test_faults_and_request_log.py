"""Injected faults (429, 500, lost response, delay) and the request log."""

from __future__ import annotations

import time

import pytest
import stripe


def _intent_params():
    return {"amount": 2500, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True}


def test_429_answers_a_rate_limit_error_without_executing(stripe_sandbox):
    secret, _, _ = stripe_sandbox.new_account()
    client = stripe_sandbox.client(secret)
    stripe_sandbox.control.inject_fault(method="POST", path="/v1/payment_intents", kind="429")

    with pytest.raises(stripe.RateLimitError) as info:
        client.v1.payment_intents.create(params=_intent_params())

    assert info.value.http_status == 429
    assert info.value.json_body["error"]["code"] == "rate_limit"
    assert client.v1.payment_intents.list().data == []


def test_500_answers_an_api_error_and_is_seen_by_the_client(stripe_sandbox):
    secret, _, _ = stripe_sandbox.new_account()
    client = stripe_sandbox.client(secret)
    stripe_sandbox.control.inject_fault(method="POST", path="/v1/payment_intents*", kind="500")

    with pytest.raises(stripe.APIError) as info:
        client.v1.payment_intents.create(params=_intent_params())

    assert info.value.http_status == 500
    assert info.value.json_body["error"]["type"] == "api_error"


def test_faults_are_consumed_in_order_and_only_for_matching_calls(stripe_sandbox):
    secret, _, _ = stripe_sandbox.new_account()
    client = stripe_sandbox.client(secret)
    control = stripe_sandbox.control
    control.inject_fault(method="POST", path="/v1/payment_intents", kind="429", count=2)
    control.inject_fault(method="POST", path="/v1/payment_intents", kind="500")

    client.v1.customers.create(params={"email": "a@x.com"})  # other path: unaffected
    client.v1.payment_intents.list()  # other method: unaffected
    for expected in (stripe.RateLimitError, stripe.RateLimitError, stripe.APIError):
        with pytest.raises(expected):
            client.v1.payment_intents.create(params=_intent_params())
    assert client.v1.payment_intents.create(params=_intent_params()).status == "succeeded"
    assert control.faults() == []


def test_clear_faults(stripe_sandbox):
    secret, _, _ = stripe_sandbox.new_account()
    stripe_sandbox.control.inject_fault(method="*", path="/v1/*", kind="500", count=5)
    stripe_sandbox.control.clear_faults()
    stripe_sandbox.client(secret).v1.customers.list()


def test_lost_response_executes_then_drops_and_the_retry_is_replayed(stripe_sandbox):
    secret, _, _ = stripe_sandbox.new_account()
    client = stripe_sandbox.client(secret)
    stripe_sandbox.control.inject_fault(
        method="POST", path="/v1/payment_intents", kind="lost_response"
    )

    with pytest.raises(stripe.APIConnectionError):
        client.v1.payment_intents.create(
            params=_intent_params(), options={"idempotency_key": "charge-inv-1"}
        )
    # The charge was made although the client saw no answer:
    [made] = client.v1.payment_intents.list().data
    assert made.status == "succeeded"

    retried = client.v1.payment_intents.create(
        params=_intent_params(), options={"idempotency_key": "charge-inv-1"}
    )

    assert retried.id == made.id
    assert len(client.v1.payment_intents.list().data) == 1
    log = stripe_sandbox.control.requests(path="/v1/payment_intents", method="POST")
    assert [(r["lost_response"], r["replayed"], r["status"]) for r in log] == [
        (True, False, 200),
        (False, True, 200),
    ]


def test_delay(stripe_sandbox):
    secret, _, _ = stripe_sandbox.new_account()
    stripe_sandbox.control.inject_fault(method="GET", path="/v1/customers", kind="delay", delay=0.3)
    start = time.monotonic()
    stripe_sandbox.client(secret).v1.customers.list()
    assert time.monotonic() - start >= 0.3


def test_unknown_fault_kind_is_refused(stripe_sandbox):
    from stripe_sandbox.control import SandboxControlError

    with pytest.raises(SandboxControlError) as info:
        stripe_sandbox.control.inject_fault(method="POST", path="/v1/x", kind="418")
    assert info.value.status == 400


def test_request_log_shows_every_attempt_with_key_and_params(stripe_sandbox):
    secret, _, account = stripe_sandbox.new_account()
    client = stripe_sandbox.client(secret)
    stripe_sandbox.control.inject_fault(method="POST", path="/v1/payment_intents", kind="500")
    params = {**_intent_params(), "metadata": {"invoice": "INV-7"}}

    for _ in range(2):
        try:
            client.v1.payment_intents.create(params=params, options={"idempotency_key": "inv-7"})
        except stripe.APIError:
            pass

    log = stripe_sandbox.control.requests(path="/v1/payment_intents")
    assert [r["status"] for r in log] == [500, 200]
    assert {r["idempotency_key"] for r in log} == {"inv-7"}
    assert log[0]["params"] == log[1]["params"]
    assert log[0]["params"]["metadata"] == {"invoice": "INV-7"}
    assert log[0]["params"]["amount"] == "2500"
    assert log[0]["fault"] == "500"
    assert {r["account"] for r in log} == {account["id"]}
    assert all(r["method"] == "POST" and r["id"].startswith("req_") for r in log)


def test_request_log_records_unauthenticated_calls(stripe_sandbox):
    client = stripe_sandbox.client("sk_test_nobodyknowsthiskey0000")
    with pytest.raises(stripe.AuthenticationError):
        client.v1.customers.list()
    [entry] = stripe_sandbox.control.requests(path="/v1/customers")
    assert entry["status"] == 401
    assert entry["account"] is None
