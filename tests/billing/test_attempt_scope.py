"""A form's attempt token belongs to one workspace and one object: the same token sent from
another workspace, for another contact, from another tab or for another payment is refused,
changes nothing and calls no Stripe (it was how workspace B could settle A's payment)."""

from __future__ import annotations

import types
import uuid

import pytest
from django.urls import reverse

from billing.models import Payment, Refund
from integrations.services import connection_create_from_key
from tests.billing.conftest import attach, card_on_file, charge_url, default_card
from tests.conftest import saved_customer
from tests.factories import ContactFactory

EXPIRED = "This form has expired; reload the page and try again."


@pytest.fixture
def globex(sandbox, other_workspace, outsider, as_user):
    """Workspace B: its own Stripe account, a customer with a saved card, its owner's client."""
    secret, publishable, _ = sandbox.new_account(name="Globex Clinic", country="US")
    connection = connection_create_from_key(
        workspace=other_workspace, secret_key=secret, publishable_key=publishable
    )
    stripe = sandbox.client(secret)
    customer = saved_customer(stripe, email="bob@example.com")
    contact = ContactFactory(workspace=other_workspace, name="Bob Stone", email="bob@example.com",
                             stripe_customer_id=customer)  # fmt: skip
    return types.SimpleNamespace(workspace=other_workspace, connection=connection, stripe=stripe,
                                 contact=contact, client=as_user(outsider))  # fmt: skip


def _refund(client, payment, amount: str, attempt) -> object:
    url = reverse("payment_refund", args=[payment.workspace.slug, payment.uuid])
    data = {"attempt": str(attempt), "amount": amount, "reason": "requested_by_customer",
            "confirmed": "on"}  # fmt: skip
    return client.post(url, data)


def test_another_workspaces_attempt_cannot_settle_its_declined_payment(
    staff_client, workspace, contact, stripe_client, globex
):
    declined = attach(stripe_client, contact, "pm_card_chargeCustomerFail")
    attempt = uuid.uuid4()
    card_on_file(staff_client, contact, declined, attempt=attempt)
    acme_payment = Payment.objects.get()
    assert acme_payment.status == "failed"
    declined_intent = acme_payment.stripe_payment_intent_id

    card = default_card(globex.stripe, globex.contact)
    response = card_on_file(globex.client, globex.contact, card, attempt=attempt)

    assert response.status_code == 200 and EXPIRED in response.text
    assert "Payment succeeded" not in response.text
    acme_payment.refresh_from_db()
    assert acme_payment.status == "failed" and acme_payment.workspace == workspace
    assert acme_payment.stripe_payment_intent_id == declined_intent
    assert Payment.objects.count() == 1
    assert globex.stripe.v1.payment_intents.list().data == []


def test_the_same_attempt_for_another_contact_is_refused(staff_client, workspace, contact,
                                                         stripe_client):  # fmt: skip
    customer = saved_customer(stripe_client, email="max@example.com")
    other = ContactFactory(workspace=workspace, name="Max Roe", email="max@example.com",
                           stripe_customer_id=customer)  # fmt: skip
    attempt = uuid.uuid4()
    card_on_file(staff_client, contact, default_card(stripe_client, contact), attempt=attempt)
    assert Payment.objects.get().status == "succeeded"

    response = card_on_file(staff_client, other, default_card(stripe_client, other),
                            attempt=attempt)  # fmt: skip

    assert EXPIRED in response.text and "Payment succeeded" not in response.text
    assert Payment.objects.get().contact == contact
    assert len(stripe_client.v1.payment_intents.list().data) == 1


def test_the_same_attempt_from_another_tab_is_refused(staff_client, contact, stripe_client):
    attempt = uuid.uuid4()
    card_on_file(staff_client, contact, default_card(stripe_client, contact), attempt=attempt)

    data = {"tab": "new", "attempt": str(attempt), "amount": "49.99", "currency": "USD",
            "description": "Cleaning"}  # fmt: skip
    response = staff_client.post(charge_url(contact, "new"), data)

    assert response.status_code == 400 and "client_secret" not in response.json()
    assert EXPIRED in response.text
    payment = Payment.objects.get()
    assert (payment.source, payment.status) == ("card_on_file", "succeeded")
    assert len(stripe_client.v1.payment_intents.list().data) == 1


@pytest.fixture
def paid(staff_client, contact, stripe_client):
    card_on_file(staff_client, contact, default_card(stripe_client, contact), amount="50.00")
    return Payment.objects.get(status="succeeded")


def test_another_workspaces_refund_attempt_is_refused_and_refunds_nothing(
    staff_client, paid, stripe_client, globex
):
    attempt = uuid.uuid4()
    assert _refund(staff_client, paid, "10.00", attempt).status_code == 302
    card = default_card(globex.stripe, globex.contact)
    card_on_file(globex.client, globex.contact, card, amount="50.00")
    globex_payment = Payment.objects.get(workspace=globex.workspace)
    assert globex_payment.status == "succeeded"

    response = _refund(globex.client, globex_payment, "20.00", attempt)

    assert response.status_code == 200 and EXPIRED in response.text
    globex_payment.refresh_from_db()
    assert globex_payment.amount_refunded == 0 and not globex_payment.refunds.exists()
    assert globex.stripe.v1.refunds.list().data == []
    refund = Refund.objects.get()
    assert (refund.payment, refund.amount, refund.status) == (paid, 1000, "succeeded")
    paid.refresh_from_db()
    assert paid.amount_refunded == 1000


def test_a_refund_attempt_for_another_payment_of_the_workspace_is_refused(
    staff_client, paid, contact, stripe_client
):
    attempt = uuid.uuid4()
    _refund(staff_client, paid, "10.00", attempt)
    card_on_file(staff_client, contact, default_card(stripe_client, contact), amount="30.00")
    second = Payment.objects.get(amount=3000)

    response = _refund(staff_client, second, "5.00", attempt)

    assert EXPIRED in response.text
    second.refresh_from_db()
    assert second.amount_refunded == 0
    assert len(stripe_client.v1.refunds.list().data) == 1


def test_a_refund_whose_answer_failed_is_completed_by_the_same_attempt(
    staff_client, paid, stripe_client, sandbox
):
    sandbox.control.inject_fault(method="POST", path="/v1/refunds", kind="500")
    attempt = uuid.uuid4()

    failed = _refund(staff_client, paid, "10.00", attempt)
    assert failed.status_code == 200 and "will not be made twice" in failed.text
    assert Refund.objects.get().status == "pending"

    again = _refund(staff_client, paid, "10.00", attempt)

    assert again.status_code == 302
    refund = Refund.objects.get()
    assert refund.status == "succeeded" and refund.stripe_refund_id.startswith("re_")
    assert len(stripe_client.v1.refunds.list().data) == 1
    paid.refresh_from_db()
    assert paid.amount_refunded == 1000
