"""``stripe-sandbox ach settle|fail pi_...``: settling an ACH payment by hand in development."""

from __future__ import annotations

import pytest

from stripe_sandbox.server import main

from .test_ach import _pay, _verified_bank


@pytest.fixture
def client(stripe_sandbox):
    secret, _, _ = stripe_sandbox.new_account(country="US", default_currency="usd")
    return stripe_sandbox.client(secret)


@pytest.fixture
def processing(client):
    customer = client.v1.customers.create(params={"email": "payer@example.com", "name": "Pat"})
    intent = _pay(client, customer, _verified_bank(client, customer))
    assert intent.status == "processing"
    return intent


def test_settle_makes_the_processing_payment_succeed(stripe_sandbox, client, processing, capsys):
    assert main(["ach", "settle", processing.id, "--url", stripe_sandbox.url]) == 0

    assert capsys.readouterr().out.strip() == f"{processing.id}: succeeded"
    assert client.v1.payment_intents.retrieve(processing.id).status == "succeeded"


def test_fail_returns_the_debit_with_the_code_asked_for(stripe_sandbox, client, processing, capsys):
    code = main(
        ["ach", "fail", processing.id, "--code", "account_closed", "--url", stripe_sandbox.url]
    )

    assert code == 0
    assert capsys.readouterr().out.startswith(
        f"{processing.id}: requires_payment_method (account_closed: "
    )
    intent = client.v1.payment_intents.retrieve(processing.id)
    assert (intent.status, intent.last_payment_error.code) == (
        "requires_payment_method",
        "account_closed",
    )


def test_fail_defaults_to_insufficient_funds(stripe_sandbox, client, processing, capsys):
    assert main(["ach", "fail", processing.id, "--url", stripe_sandbox.url]) == 0

    intent = client.v1.payment_intents.retrieve(processing.id)
    assert intent.last_payment_error.code == "insufficient_funds"


def test_a_charge_id_is_refused_with_what_to_give_instead(stripe_sandbox, capsys):
    assert main(["ach", "settle", "py_123", "--url", stripe_sandbox.url]) == 1

    assert "PaymentIntent's id (pi_...)" in capsys.readouterr().err


def test_a_payment_that_is_not_processing_is_refused(stripe_sandbox, client, processing, capsys):
    main(["ach", "settle", processing.id, "--url", stripe_sandbox.url])
    capsys.readouterr()

    assert main(["ach", "fail", processing.id, "--url", stripe_sandbox.url]) == 1
    assert "is not a processing us_bank_account payment" in capsys.readouterr().err
    assert client.v1.payment_intents.retrieve(processing.id).status == "succeeded"


def test_an_unknown_payment_is_refused(stripe_sandbox, capsys):
    assert main(["ach", "settle", "pi_unknown", "--url", stripe_sandbox.url]) == 1
    assert "no such payment_intent" in capsys.readouterr().err
