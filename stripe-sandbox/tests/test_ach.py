"""ACH Direct Debit (us_bank_account): microdeposit verification, processing, settlement."""

from __future__ import annotations

import json
import pickle
import urllib.error
import urllib.parse
import urllib.request

import pytest
import stripe

from stripe_sandbox import persistence
from stripe_sandbox.control import SandboxControlError
from stripe_sandbox.state import STATE

from .helpers import webhook_receiver

MANDATE_DATA = {
    "customer_acceptance": {
        "type": "online",
        "online": {"ip_address": "203.0.113.7", "user_agent": "Mozilla/5.0 (portal test)"},
    }
}


@pytest.fixture
def account(stripe_sandbox):
    secret, _, acct = stripe_sandbox.new_account(country="US", default_currency="usd")
    return stripe_sandbox.client(secret), secret


@pytest.fixture
def client(account):
    return account[0]


@pytest.fixture
def customer(client):
    return client.v1.customers.create(params={"email": "payer@example.com", "name": "Pat Payer"})


def _bank_data(account_number="000123456789", routing_number="110000000"):
    return {
        "type": "us_bank_account",
        "us_bank_account": {
            "routing_number": routing_number,
            "account_number": account_number,
            "account_holder_type": "individual",
        },
        "billing_details": {"name": "Pat Payer", "email": "payer@example.com"},
    }


def _setup(client, customer, account_number="000123456789", **extra):
    params = {
        "customer": customer.id,
        "payment_method_types": ["us_bank_account"],
        "payment_method_options": {"us_bank_account": {"verification_method": "microdeposits"}},
        "payment_method_data": _bank_data(account_number),
        "mandate_data": MANDATE_DATA,
        "confirm": True,
    }
    params.update(extra)
    return client.v1.setup_intents.create(params=params)


def _verify(client, intent_id, **params):
    return client.v1.setup_intents.verify_microdeposits(intent_id, params=params)


def _verified_bank(client, customer, account_number="000123456789"):
    intent = _setup(client, customer, account_number)
    intent = _verify(client, intent.id, amounts=[32, 45])
    assert intent.status == "succeeded"
    return intent.payment_method


def _pay(client, customer, pm, **extra):
    params = {
        "amount": 12500,
        "currency": "usd",
        "customer": customer.id,
        "payment_method": pm,
        "payment_method_types": ["us_bank_account"],
        "confirm": True,
        "mandate_data": MANDATE_DATA,
        "description": "Invoice INV-7",
    }
    params.update(extra)
    return client.v1.payment_intents.create(params=params)


def _bank_pms(client, customer):
    return client.v1.payment_methods.list(
        params={"customer": customer.id, "type": "us_bank_account"}
    ).data


def test_setup_with_microdeposits_requires_action(client, customer):
    intent = _setup(client, customer)

    assert intent.status == "requires_action"
    assert intent.next_action.type == "verify_with_microdeposits"
    vwm = intent.next_action.verify_with_microdeposits
    assert vwm.microdeposit_type == "amounts"
    assert vwm.arrival_date > 0 and vwm.hosted_verification_url.startswith("https://")
    assert intent.payment_method_types == ["us_bank_account"]
    assert intent.payment_method_options.us_bank_account.verification_method == "microdeposits"
    pm = client.v1.payment_methods.retrieve(intent.payment_method)
    assert pm.type == "us_bank_account"
    assert pm.us_bank_account.bank_name == "STRIPE TEST BANK"
    assert pm.us_bank_account.last4 == "6789"
    assert pm.us_bank_account.routing_number == "110000000"
    assert pm.us_bank_account.account_holder_type == "individual"
    assert pm.us_bank_account.account_type == "checking"
    assert pm.billing_details.name == "Pat Payer"
    assert "account_number" not in pm.us_bank_account
    # Not attached before verification.
    assert pm.customer is None
    assert _bank_pms(client, customer) == []


def test_verify_with_amounts_attaches_and_lists(client, customer):
    intent = _setup(client, customer)
    verified = _verify(client, intent.id, amounts=[32, 45])

    assert verified.status == "succeeded"
    assert verified.next_action is None
    assert verified.mandate.startswith("mandate_")
    mandate = client.v1.mandates.retrieve(verified.mandate)
    assert mandate.payment_method == intent.payment_method
    assert mandate.status == "active"
    assert mandate.customer_acceptance.online.ip_address == "203.0.113.7"
    pm = client.v1.payment_methods.retrieve(intent.payment_method)
    assert pm.customer == customer.id
    assert [p.id for p in _bank_pms(client, customer)] == [pm.id]
    listed = client.v1.customers.payment_methods.list(
        customer.id, params={"type": "us_bank_account"}
    )
    assert [p.id for p in listed.data] == [pm.id]
    assert client.v1.setup_intents.retrieve(intent.id).status == "succeeded"


def test_verify_with_descriptor_code(client, customer):
    intent = _setup(client, customer)
    verified = _verify(client, intent.id, descriptor_code="SM11AA")
    assert verified.status == "succeeded"
    assert client.v1.payment_methods.retrieve(intent.payment_method).customer == customer.id


def test_payment_method_first_then_setup_intent(client, customer):
    pm = client.v1.payment_methods.create(params=_bank_data())
    assert pm.type == "us_bank_account" and pm.customer is None
    intent = client.v1.setup_intents.create(
        params={
            "customer": customer.id,
            "payment_method_types": ["us_bank_account"],
            "payment_method": pm.id,
            "mandate_data": MANDATE_DATA,
            "confirm": True,
        }
    )
    assert intent.status == "requires_action"
    assert intent.payment_method == pm.id
    assert _verify(client, intent.id, amounts=[32, 45]).status == "succeeded"
    assert client.v1.payment_methods.retrieve(pm.id).customer == customer.id


def test_create_then_confirm_setup_intent(client, customer):
    intent = client.v1.setup_intents.create(
        params={"customer": customer.id, "payment_method_types": ["us_bank_account"]}
    )
    assert intent.status == "requires_payment_method"
    confirmed = client.v1.setup_intents.confirm(
        intent.id,
        params={"payment_method_data": _bank_data(), "mandate_data": MANDATE_DATA},
    )
    assert confirmed.status == "requires_action"


def test_unverified_bank_cannot_be_attached_directly(client, customer):
    pm = client.v1.payment_methods.create(params=_bank_data())
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_methods.attach(pm.id, params={"customer": customer.id})


@pytest.mark.parametrize(
    "routing_number",
    ["11000000", "1100000000", "11000000a", "021000021"],
)
def test_invalid_routing_numbers_are_refused(client, customer, routing_number):
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        client.v1.payment_methods.create(params=_bank_data(routing_number=routing_number))
    assert excinfo.value.http_status == 400
    assert excinfo.value.code == "routing_number_invalid"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.setup_intents.create(
            params={
                "customer": customer.id,
                "payment_method_types": ["us_bank_account"],
                "payment_method_data": _bank_data(routing_number=routing_number),
                "mandate_data": MANDATE_DATA,
                "confirm": True,
            }
        )
    # Nothing was created.
    assert client.v1.setup_intents.list().data == []


def test_bank_payment_method_needs_a_name_and_a_valid_account_number(client):
    data = _bank_data()
    data["billing_details"] = {}
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        client.v1.payment_methods.create(params=data)
    assert excinfo.value.param == "billing_details[name]"
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        client.v1.payment_methods.create(params=_bank_data(account_number="12ab"))
    assert excinfo.value.code == "account_number_invalid"


def test_setup_requires_mandate_data(client, customer):
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        client.v1.setup_intents.create(
            params={
                "customer": customer.id,
                "payment_method_types": ["us_bank_account"],
                "payment_method_data": _bank_data(),
                "confirm": True,
            }
        )
    assert excinfo.value.param == "mandate_data[customer_acceptance]"
    online_without_ip = {"customer_acceptance": {"type": "online", "online": {"user_agent": "x"}}}
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        _setup(client, customer, mandate_data=online_without_ip)
    assert excinfo.value.param == "mandate_data[customer_acceptance][online][ip_address]"


def test_wrong_amounts_then_right(client, customer):
    intent = _setup(client, customer)
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        _verify(client, intent.id, amounts=[10, 11])
    err = excinfo.value
    assert err.http_status == 400
    assert err.code == "payment_method_microdeposit_verification_amounts_mismatch"
    assert err.error.type == "invalid_request_error"
    assert err.user_message == (
        "The amounts provided do not match the amounts that were sent to the bank account. "
        "You have 9 verification attempts remaining."
    )
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        _verify(client, intent.id, descriptor_code="SM99ZZ")
    assert excinfo.value.code == "payment_method_microdeposit_verification_descriptor_code_mismatch"
    assert "8 verification attempts remaining" in excinfo.value.user_message
    assert client.v1.setup_intents.retrieve(intent.id).status == "requires_action"

    assert _verify(client, intent.id, amounts=[32, 45]).status == "succeeded"
    # Already verified: verifying again is refused.
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        _verify(client, intent.id, amounts=[32, 45])
    assert excinfo.value.code == "setup_intent_unexpected_state"


def test_malformed_amounts_do_not_count_as_attempts(client, customer):
    intent = _setup(client, customer)
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        _verify(client, intent.id, amounts=[32])
    assert excinfo.value.code == "payment_method_microdeposit_verification_amounts_invalid"
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        _verify(client, intent.id, amounts=[1, 2])
    assert "9 verification attempts remaining" in excinfo.value.user_message


def test_ten_wrong_attempts_lock_the_bank_account(client, customer):
    intent = _setup(client, customer)
    pm_id = intent.payment_method
    for remaining in range(9, 0, -1):
        with pytest.raises(stripe.InvalidRequestError) as excinfo:
            _verify(client, intent.id, amounts=[1, 2])
        assert f"You have {remaining} verification attempts remaining." in (
            excinfo.value.user_message
        )
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        _verify(client, intent.id, amounts=[1, 2])
    assert excinfo.value.code == "payment_method_microdeposit_verification_attempts_exceeded"

    locked = client.v1.setup_intents.retrieve(intent.id)
    assert locked.status == "requires_payment_method"
    assert locked.payment_method is None
    assert locked.last_setup_error.code == (
        "payment_method_microdeposit_verification_attempts_exceeded"
    )
    # The right amounts no longer help.
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        _verify(client, intent.id, amounts=[32, 45])
    assert excinfo.value.code == "payment_method_microdeposit_verification_attempts_exceeded"
    # Nor does another SetupIntent with the same bank PaymentMethod.
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        client.v1.setup_intents.create(
            params={
                "customer": customer.id,
                "payment_method_types": ["us_bank_account"],
                "payment_method": pm_id,
                "mandate_data": MANDATE_DATA,
                "confirm": True,
            }
        )
    assert excinfo.value.code == "payment_method_microdeposit_verification_attempts_exceeded"
    assert _bank_pms(client, customer) == []
    with pytest.raises(stripe.InvalidRequestError):
        _pay(client, customer, pm_id)


def test_paying_with_an_unverified_bank_is_refused(client, customer):
    intent = _setup(client, customer)
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        _pay(client, customer, intent.payment_method)
    assert excinfo.value.http_status == 400
    assert excinfo.value.param == "payment_method"
    assert client.v1.payment_intents.list().data == []


def test_non_usd_is_refused(client, customer):
    pm = _verified_bank(client, customer)
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        _pay(client, customer, pm, currency="eur")
    assert excinfo.value.param == "currency"
    assert "us_bank_account" in excinfo.value.user_message and "usd" in excinfo.value.user_message
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.create(
            params={"amount": 500, "currency": "cad", "payment_method_types": ["us_bank_account"]}
        )


def test_payment_needs_a_mandate_or_off_session(client, customer):
    pm = _verified_bank(client, customer)
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        _pay(client, customer, pm, mandate_data=None)
    assert excinfo.value.param == "mandate_data"
    intent = _pay(client, customer, pm, mandate_data=None, off_session=True)
    assert intent.status == "processing"


def test_bank_payment_processing_then_settled(stripe_sandbox, account, customer):
    client, secret = account
    pm = _verified_bank(client, customer)
    with webhook_receiver() as receiver:
        client.v1.webhook_endpoints.create(params={"url": receiver.url, "enabled_events": ["*"]})
        intent = _pay(client, customer, pm)

        assert intent.status == "processing"
        assert intent.amount_received == 0
        charge = client.v1.charges.retrieve(intent.latest_charge)
        assert charge.status == "pending" and not charge.paid
        assert charge.payment_method_details.type == "us_bank_account"
        assert charge.payment_method_details.us_bank_account.last4 == "6789"
        assert charge.payment_method_details.us_bank_account.mandate.startswith("mandate_")

        settled = stripe_sandbox.control.ach_settle(intent.id)
        assert settled["status"] == "succeeded"
        intent = client.v1.payment_intents.retrieve(intent.id)
        assert intent.status == "succeeded"
        assert intent.amount_received == 12500
        charge = client.v1.charges.retrieve(intent.latest_charge)
        assert charge.status == "succeeded" and charge.paid

        types = [e.type for e in client.v1.events.list(params={"limit": 100}).data]
        for expected in (
            "charge.pending",
            "payment_intent.processing",
            "charge.succeeded",
            "payment_intent.succeeded",
        ):
            assert expected in types
        assert "payment_intent.payment_failed" not in types
        stripe_sandbox.control.deliveries(wait=5)
        delivered = [json.loads(r.body)["type"] for r in receiver.received]
        assert "payment_intent.processing" in delivered
        assert "payment_intent.succeeded" in delivered
        assert "charge.succeeded" in delivered

    # Settling again is refused.
    with pytest.raises(SandboxControlError):
        stripe_sandbox.control.ach_settle(intent.id)


@pytest.mark.parametrize(
    ("account_number", "code"),
    [("000111111113", "account_closed"), ("000222222227", "insufficient_funds")],
)
def test_failure_accounts_fail_at_settlement(
    stripe_sandbox, client, customer, account_number, code
):
    pm = _verified_bank(client, customer, account_number)
    intent = _pay(client, customer, pm)
    assert intent.status == "processing"

    stripe_sandbox.control.ach_settle(intent.id)

    intent = client.v1.payment_intents.retrieve(intent.id)
    assert intent.status == "requires_payment_method"
    assert intent.last_payment_error.code == code
    assert intent.last_payment_error.decline_code == code
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert charge.status == "failed" and charge.failure_code == code
    types = [e.type for e in client.v1.events.list(params={"limit": 100}).data]
    assert "payment_intent.payment_failed" in types and "charge.failed" in types
    assert "payment_intent.succeeded" not in types


def test_settle_all_and_forced_failure(stripe_sandbox, account, customer):
    client, secret = account
    pm = _verified_bank(client, customer)
    first = _pay(client, customer, pm)
    second = _pay(client, customer, pm, amount=700)
    card = client.v1.payment_intents.create(
        params={"amount": 900, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True}
    )
    third = _pay(client, customer, pm, amount=300)
    failed = stripe_sandbox.control.ach_settle(third.id, failure_code="insufficient_funds")
    assert failed["status"] == "requires_payment_method"

    settled = stripe_sandbox.control.ach_settle_all(secret)

    assert sorted(i["id"] for i in settled) == sorted([first.id, second.id])
    assert all(i["status"] == "succeeded" for i in settled)
    assert client.v1.payment_intents.retrieve(card.id).status == "succeeded"
    assert stripe_sandbox.control.ach_settle_all(secret) == []


def test_account_reports_us_and_usd(client):
    acct = client.v1.accounts.retrieve_current()
    assert acct.country == "US"
    assert acct.default_currency == "usd"


def test_create_then_confirm_payment_intent(client, customer):
    pm = _verified_bank(client, customer)
    intent = client.v1.payment_intents.create(
        params={
            "amount": 4200,
            "currency": "usd",
            "customer": customer.id,
            "payment_method_types": ["us_bank_account"],
        }
    )
    assert intent.status == "requires_payment_method"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.confirm(intent.id, params={"payment_method": pm})
    confirmed = client.v1.payment_intents.confirm(
        intent.id, params={"payment_method": pm, "mandate_data": MANDATE_DATA}
    )
    assert confirmed.status == "processing"


def test_card_payment_method_refused_for_bank_only_intent(client, customer):
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        client.v1.payment_intents.create(
            params={
                "amount": 4200,
                "currency": "usd",
                "payment_method": "pm_card_visa",
                "payment_method_types": ["us_bank_account"],
                "confirm": True,
            }
        )
    assert excinfo.value.param == "payment_method"


def test_verify_with_publishable_key_needs_the_client_secret(stripe_sandbox):
    # Stripe.js's verifyMicrodepositsForSetup: publishable key plus the client_secret.
    secret, publishable, _ = stripe_sandbox.new_account()
    client = stripe_sandbox.client(secret)
    own = client.v1.customers.create(params={"email": "p@example.com"})
    intent = _setup(client, own)
    url = f"{stripe_sandbox.url}/v1/setup_intents/{intent.id}/verify_microdeposits"

    def post(body):
        request = urllib.request.Request(
            url, data=urllib.parse.urlencode(body).encode(), method="POST"
        )
        request.add_header("Authorization", f"Bearer {publishable}")
        try:
            with urllib.request.urlopen(request) as response:  # noqa: S310
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    status, body = post({"amounts[0]": "32", "amounts[1]": "45"})
    assert status == 400 and body["error"]["param"] == "client_secret"
    status, body = post(
        {"amounts[0]": "32", "amounts[1]": "45", "client_secret": intent.client_secret}
    )
    assert status == 200 and body["status"] == "succeeded"


def test_settle_unknown_intent_is_404(stripe_sandbox):
    with pytest.raises(SandboxControlError) as excinfo:
        stripe_sandbox.control.ach_settle("pi_nope")
    assert excinfo.value.status == 404


def test_a_data_file_saved_before_the_sandbox_moved_still_loads(
    stripe_sandbox, client, customer, tmp_path
):
    """var/stripe-sandbox.pickle files written when the sandbox was ``integrations.sandbox``
    (with one ``ach`` module) name its classes there."""
    pm = _verified_bank(client, customer)
    path = tmp_path / "stripe-sandbox.pickle"
    persistence.dump(STATE, path)
    old = (
        pickle.dumps(pickle.loads(path.read_bytes()), protocol=0)  # noqa: S301 - just written
        .replace(
            b"cstripe_sandbox.ach.bank_accounts\nBankVerification\n",
            b"cstripe_sandbox.ach\n_Verification\n",
        )
        .replace(b"cstripe_sandbox.ach.mandates\nMandate\n", b"cstripe_sandbox.ach\nMandate\n")
        .replace(b"cstripe_sandbox.", b"cintegrations.sandbox.")
    )
    assert b"cintegrations.sandbox.ach\n_Verification\n" in old
    assert b"cintegrations.sandbox.ach\nMandate\n" in old
    assert b"stripe_sandbox" not in old
    path.write_bytes(old)
    stripe_sandbox.control.reset()

    assert persistence.load(STATE, path)
    assert client.v1.payment_methods.retrieve(pm).customer == customer.id
    assert _pay(client, customer, pm).status == "processing"  # still verified, with its mandate
