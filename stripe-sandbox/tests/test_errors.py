"""400s name the parameter with Stripe's code and a readable message; unknown URLs are a JSON
404, as Stripe answers them."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
import stripe


def _get(sandbox, secret, path):
    request = urllib.request.Request(
        sandbox.url + path, headers={"Authorization": f"Bearer {secret}"}
    )
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.fixture
def client(stripe_sandbox):
    secret, _, _ = stripe_sandbox.new_account()
    return stripe_sandbox.client(secret)


def _refused(call) -> dict:
    with pytest.raises(stripe.InvalidRequestError) as info:
        call()
    assert info.value.http_status == 400
    return info.value.json_body["error"]


def test_a_missing_required_parameter_is_named(client):
    error = _refused(lambda: client.v1.payment_intents.create(params={"currency": "usd"}))
    assert (error["code"], error["param"]) == ("parameter_missing", "amount")
    assert error["message"] == "Missing required param: amount."


def test_an_unknown_parameter_is_named(client):
    error = _refused(
        lambda: client.v1.payment_intents.create(
            params={"amount": 100, "currency": "usd", "colour": "red"}
        )
    )  # noqa: E501
    assert (error["code"], error["param"]) == ("parameter_unknown", "colour")
    assert error["message"] == "Received unknown parameter: colour"


def test_a_non_integer_amount_is_named(client):
    error = _refused(
        lambda: client.v1.payment_intents.create(params={"amount": "12.50", "currency": "usd"})
    )
    assert (error["code"], error["param"]) == ("parameter_invalid_integer", "amount")
    assert error["message"] == "Invalid integer: 12.50"


def test_an_empty_value_is_named(client):
    error = _refused(
        lambda: client.v1.payment_intents.create(params={"amount": 100, "currency": ""})
    )
    assert (error["code"], error["param"]) == ("parameter_invalid_empty", "currency")
    assert "empty string for 'currency'" in error["message"]


def test_an_unknown_url_is_a_json_404(stripe_sandbox):
    secret, _, _ = stripe_sandbox.new_account()
    status, body = _get(stripe_sandbox, secret, "/v1/no_such_things")
    assert status == 404
    error = json.loads(body)["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith("Unrecognized request URL (GET: /v1/no_such_things).")
