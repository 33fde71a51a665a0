"""The error table (integrations/errors.py), one test per row, driven over HTTP by the sandbox."""

from __future__ import annotations

import pytest

from integrations.gateway import errors
from integrations.gateway.accounts import account_retrieve
from integrations.gateway.client import Credentials
from integrations.gateway.customers import customer_create, customer_retrieve, payment_method_attach
from integrations.models import StripeConnection
from tests.factories import StripeConnectionFactory


@pytest.fixture
def creds(sandbox):
    secret, _, _ = sandbox.new_account(name="Acme Dental", country="US", default_currency="usd")
    return Credentials(secret_key=secret)


def _fails(call) -> errors.GatewayError:
    with pytest.raises(errors.GatewayError) as caught:
        call()
    return caught.value


def test_400_invalid_request_is_validation_error(creds, sandbox):
    customer = customer_create(creds, name="Jane", email="j@example.com", idempotency_key="c1")
    error = _fails(
        lambda: payment_method_attach(
            creds,
            customer_id=customer.id,
            payment_method="not-a-payment-method",
            idempotency_key="a1",
        )
    )
    assert (error.code, error.http_status, error.retryable) == (errors.VALIDATION_ERROR, 400, False)


def test_401_revoked_key_is_auth_expired_and_the_message_hides_the_key(creds, sandbox):
    sandbox.control.revoke_key(creds.secret_key)
    error = _fails(lambda: account_retrieve(creds))
    assert (error.code, error.retryable) == (errors.AUTH_EXPIRED, False)
    assert creds.secret_key[-4:] not in error.message and "sk_" not in error.message


def test_401_unknown_key_is_auth_expired(sandbox):
    error = _fails(lambda: account_retrieve(Credentials(secret_key="sk_test_neverRegistered0000")))
    assert error.code == errors.AUTH_EXPIRED


def test_402_declined_card_is_payment_required_with_the_decline_code(creds):
    customer = customer_create(creds, name="Jane", email="j@example.com", idempotency_key="c1")
    error = _fails(
        lambda: payment_method_attach(
            creds,
            customer_id=customer.id,
            payment_method="pm_card_chargeDeclined",
            idempotency_key="a1",
        )
    )
    assert (error.code, error.http_status, error.retryable) == (errors.PAYMENT_REQUIRED, 402, False)
    assert error.stripe_code == "card_declined"


def test_403_restricted_key_without_the_permission_is_permission_denied(sandbox):
    secret, _, _ = sandbox.new_account(permissions={"customers": "read"})
    restricted = Credentials(secret_key=secret)
    error = _fails(
        lambda: customer_create(restricted, name="J", email="j@example.com", idempotency_key="k")
    )
    assert (error.code, error.http_status, error.retryable) == (
        errors.PERMISSION_DENIED,
        403,
        False,
    )
    assert "rk_" not in error.message


def test_404_missing_object_is_not_found(creds):
    error = _fails(lambda: customer_retrieve(creds, customer_id="cus_doesNotExist"))
    assert (error.code, error.http_status, error.retryable) == (errors.NOT_FOUND, 404, False)


def test_idempotency_key_reused_with_other_parameters_is_conflict(creds):
    customer_create(creds, name="Jane", email="j@example.com", idempotency_key="same")
    error = _fails(
        lambda: customer_create(creds, name="Other", email="o@example.com", idempotency_key="same")
    )
    assert (error.code, error.retryable) == (errors.CONFLICT, False)


def test_a_replayed_key_with_the_same_parameters_returns_the_first_object(creds):
    first = customer_create(creds, name="Jane", email="j@example.com", idempotency_key="same")
    again = customer_create(creds, name="Jane", email="j@example.com", idempotency_key="same")
    assert again.id == first.id


def test_429_is_rate_limited_and_retryable(creds, sandbox):
    sandbox.control.inject_fault(method="POST", path="/v1/customers", kind="429")
    error = _fails(lambda: customer_create(creds, name="J", email="j@x.com", idempotency_key="k"))
    assert (error.code, error.http_status, error.retryable) == (errors.RATE_LIMITED, 429, True)


def test_500_is_provider_error_retryable_and_the_sdk_does_not_retry_on_its_own(creds, sandbox):
    sandbox.control.inject_fault(method="POST", path="/v1/customers", kind="500")
    error = _fails(lambda: customer_create(creds, name="J", email="j@x.com", idempotency_key="k"))
    assert (error.code, error.retryable) == (errors.PROVIDER_ERROR, True)
    assert len(sandbox.control.requests(path="/v1/customers", method="POST")) == 1


def test_a_response_lost_after_the_work_was_done_is_provider_error_and_a_retry_is_safe(
    creds, sandbox
):
    sandbox.control.inject_fault(method="POST", path="/v1/customers", kind="lost_response")
    error = _fails(lambda: customer_create(creds, name="J", email="j@x.com", idempotency_key="k"))
    assert (error.code, error.retryable) == (errors.PROVIDER_ERROR, True)
    # The retry with the same key gets the customer made the first time, not a second one.
    customer = customer_create(creds, name="J", email="j@x.com", idempotency_key="k")
    client = sandbox.client(creds.secret_key)
    assert [c.id for c in client.v1.customers.list().data] == [customer.id]


def test_a_timeout_is_provider_error(creds, sandbox, settings):
    settings.STRIPE_TIMEOUT_SECONDS = 0.5
    sandbox.control.inject_fault(method="GET", path="/v1/account", kind="delay", delay=2)
    error = _fails(lambda: account_retrieve(creds))
    assert (error.code, error.retryable) == (errors.PROVIDER_ERROR, True)


def test_credentials_never_show_the_key():
    creds = Credentials(secret_key="sk_test_verySecretValue4242", connection_id=7)
    assert "verySecret" not in repr(creds) and "verySecret" not in str(creds)


# --- a rejected key: the gateway reports it and nothing else ---------------------------------


def test_a_rejected_key_is_only_told_to_on_rejected(
    sandbox, workspace, owner, mailoutbox, django_capture_on_commit_callbacks
):
    secret, _, account = sandbox.new_account()
    connection = StripeConnectionFactory(
        workspace=workspace, secret_key=secret, account_id=account["id"]
    )
    told: list[str] = []
    creds = Credentials(secret_key=secret, connection_id=connection.pk, on_rejected=told.append)
    sandbox.control.revoke_key(secret)

    with django_capture_on_commit_callbacks() as queued:
        error = _fails(lambda: account_retrieve(creds))

    assert error.code == errors.AUTH_EXPIRED and told == [errors.AUTH_EXPIRED]
    connection.refresh_from_db()
    assert connection.health == StripeConnection.Health.OK  # the gateway wrote nothing
    assert connection.last_checked_at is None
    assert queued == [] and mailoutbox == []  # and sent nothing, now or after the commit


def test_a_missing_permission_is_told_to_on_rejected(sandbox):
    secret, _, _ = sandbox.new_account(permissions={"customers": "read"})
    told: list[str] = []
    restricted = Credentials(secret_key=secret, on_rejected=told.append)
    _fails(lambda: customer_create(restricted, name="J", email="j@x.com", idempotency_key="k"))
    assert told == [errors.PERMISSION_DENIED]


def test_other_failures_are_not_told_to_on_rejected(creds, sandbox):
    told: list[str] = []
    watched = Credentials(secret_key=creds.secret_key, on_rejected=told.append)
    _fails(lambda: customer_retrieve(watched, customer_id="cus_doesNotExist"))
    sandbox.control.inject_fault(method="GET", path="/v1/account", kind="500")
    _fails(lambda: account_retrieve(watched))
    assert told == []
