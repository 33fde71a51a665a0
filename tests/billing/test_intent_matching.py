"""A PaymentIntent is applied to a ledger row only when it is that row's: same Stripe account,
amount, currency and customer, and the row has no other intent. Anyone who can create intents
in the account can write `metadata[portal_payment]`; an intent that names a row without
matching it is recorded, shown on the reconciliation page and e-mailed to the owners once,
and changes nothing (it used to mark a 200.00 invoice Paid for a $0.50 intent)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from billing.models import IntentMismatch, Payment
from billing.reconcile import reconcile_connection
from billing.services.charges import new_card_payment_start
from integrations.services import connection_create_from_key
from invoices.models import Invoice, InvoicePayment
from invoices.payments import invoice_pay_card
from tests.invoices import conftest as invoice_fixtures
from tests.reliability.conftest import deliver, sandbox_events, webhook_endpoint

process = invoice_fixtures.process
invoice = invoice_fixtures.invoice
work_item = invoice_fixtures.work_item

MISMATCH_SUBJECT = "A Stripe payment did not match the ledger"


def _stray_intent(stripe_client, payment, amount: int = 50, **params) -> str:
    """A succeeded intent made in Stripe directly that names `payment` in its metadata."""
    intent = stripe_client.v1.payment_intents.create(params={
        "amount": amount, "currency": "usd", "payment_method_types": ["card"],
        "metadata": {"portal_payment": str(payment.uuid)}, **params,
    })  # fmt: skip
    stripe_client.v1.payment_intents.confirm(intent.id, params={"payment_method": "pm_card_visa"})
    return intent.id


def _deliver_events_of(endpoint, stripe_client, intent_id: str) -> None:
    for event in sandbox_events(stripe_client):
        obj = event["data"]["object"]
        if intent_id in (obj.get("id"), obj.get("payment_intent")):
            deliver(endpoint, event)


@pytest.fixture
def pending_invoice_payment(work_item, payer, stripe_client):
    """A payer's new-card payment of the whole invoice ($200.00), not confirmed yet."""
    started = invoice_pay_card(work_item=work_item, payer=payer, amount=work_item.invoice.total)
    assert started.client_secret
    return Payment.objects.get(pk=started.attempt.payment_id)


def test_a_webhook_for_a_stray_intent_naming_an_invoice_payment_applies_nothing(
    pending_invoice_payment, connection, stripe_client, owner, as_user,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    payment = pending_invoice_payment
    real_intent = payment.stripe_payment_intent_id
    endpoint = webhook_endpoint(connection)
    stray = _stray_intent(stripe_client, payment)

    with django_capture_on_commit_callbacks(execute=True):
        _deliver_events_of(endpoint, stripe_client, stray)
        _deliver_events_of(endpoint, stripe_client, stray)  # and once more: told once

    payment.refresh_from_db()
    assert (payment.status, payment.stripe_payment_intent_id) == ("pending", real_intent)
    assert payment.amount_refunded == 0
    invoice = Invoice.objects.get()
    assert (invoice.status, invoice.amount_paid) != ("paid", invoice.total)
    mismatch = IntentMismatch.objects.get()
    assert (mismatch.payment, mismatch.payment_intent, mismatch.amount) == (payment, stray, 50)
    assert mismatch.via == "webhook" and mismatch.workspace == payment.workspace
    assert "$0.50 instead of $200.00" in mismatch.reasons
    assert real_intent in mismatch.reasons
    assert [m.subject for m in mail.outbox] == [MISMATCH_SUBJECT]
    assert mail.outbox[0].to == [owner.email] and stray in mail.outbox[0].body

    page = as_user(owner).get(reverse("reconciliation_list", args=["acme"]))
    assert stray in page.text and "$0.50 instead of $200.00" in page.text

    # The payer's own intent still pays the invoice.
    stripe_client.v1.payment_intents.confirm(real_intent, params={"payment_method": "pm_card_visa"})
    with django_capture_on_commit_callbacks(execute=True):
        _deliver_events_of(endpoint, stripe_client, real_intent)
    payment.refresh_from_db()
    invoice.refresh_from_db()
    assert (payment.status, payment.stripe_payment_intent_id) == ("succeeded", real_intent)
    assert (invoice.status, invoice.amount_paid) == ("paid", invoice.total)
    assert InvoicePayment.objects.get().status == "succeeded"


def test_reconciliation_reports_a_stray_intent_and_applies_nothing(
    pending_invoice_payment, connection, stripe_client, owner, django_capture_on_commit_callbacks
):
    payment = pending_invoice_payment
    stray = _stray_intent(stripe_client, payment)
    since = timezone.now() - timedelta(days=1)

    with django_capture_on_commit_callbacks(execute=True):
        report = reconcile_connection(connection=connection, since=since)
    with django_capture_on_commit_callbacks(execute=True):
        again = reconcile_connection(connection=connection, since=since)

    payment.refresh_from_db()
    assert (payment.status, payment.stripe_payment_intent_id) != ("succeeded", stray)
    assert Invoice.objects.get().status != "paid"
    for run in (report, again):
        (line,) = [d for d in run.differences if d["payment_intent"] == stray]
        assert (line["kind"], line["repaired"], line["payment"]) == ("mismatch", False,
                                                                     str(payment.uuid))  # fmt: skip
        assert "$0.50 instead of $200.00" in line["message"]
    assert report.payments_updated == 0
    assert IntentMismatch.objects.get().via == "reconciliation"
    assert [m.subject for m in mail.outbox] == [MISMATCH_SUBJECT]


def test_an_intent_of_another_amount_is_not_applied_to_a_row_that_lost_its_answer(
    workspace, connection, contact, stripe_client, staff
):
    payment, _ = new_card_payment_start(workspace=workspace, contact=contact, amount=2500,
                                        currency="usd", description="Whitening", user=staff,
                                        attempt=uuid.uuid4())  # fmt: skip
    Payment.objects.filter(pk=payment.pk).update(stripe_payment_intent_id="")  # answer lost
    stray = _stray_intent(stripe_client, payment, customer=contact.stripe_customer_id)

    deliver_to = webhook_endpoint(connection)
    _deliver_events_of(deliver_to, stripe_client, stray)

    payment.refresh_from_db()
    assert (payment.status, payment.stripe_payment_intent_id) == ("pending", "")
    assert IntentMismatch.objects.get().reasons == "$0.50 instead of $25.00"


def test_an_intent_of_another_customer_is_not_applied(
    workspace, connection, contact, stripe_client, staff
):
    payment, _ = new_card_payment_start(workspace=workspace, contact=contact, amount=2500,
                                        currency="usd", description="Whitening", user=staff,
                                        attempt=uuid.uuid4())  # fmt: skip
    Payment.objects.filter(pk=payment.pk).update(stripe_payment_intent_id="")  # answer lost
    someone = stripe_client.v1.customers.create(params={"email": "someone@example.com"})
    stray = _stray_intent(stripe_client, payment, amount=2500, customer=someone.id)

    _deliver_events_of(webhook_endpoint(connection), stripe_client, stray)

    payment.refresh_from_db()
    assert (payment.status, payment.stripe_payment_intent_id) == ("pending", "")
    assert IntentMismatch.objects.get().reasons == "another customer"


def test_an_intent_of_the_workspaces_other_stripe_account_is_not_applied(
    sandbox, workspace, connection, contact, stripe_client, staff
):
    payment, _ = new_card_payment_start(workspace=workspace, contact=contact, amount=2500,
                                        currency="usd", description="Whitening", user=staff,
                                        attempt=uuid.uuid4())  # fmt: skip
    Payment.objects.filter(pk=payment.pk).update(stripe_payment_intent_id="")  # answer lost
    secret, publishable, _ = sandbox.new_account(name="Acme Spa")
    second = connection_create_from_key(workspace=workspace, secret_key=secret,
                                        publishable_key=publishable)  # fmt: skip
    other_account = sandbox.client(secret)
    stray = _stray_intent(other_account, payment, amount=2500)

    _deliver_events_of(webhook_endpoint(second), other_account, stray)

    payment.refresh_from_db()
    assert (payment.status, payment.stripe_payment_intent_id) == ("pending", "")
    assert "another Stripe account" in IntentMismatch.objects.get().reasons


def test_reconciliation_does_not_apply_an_intent_of_another_amount_to_a_row_without_one(
    workspace, connection, contact, stripe_client, staff
):
    payment, _ = new_card_payment_start(workspace=workspace, contact=contact, amount=2500,
                                        currency="usd", description="Whitening", user=staff,
                                        attempt=uuid.uuid4())  # fmt: skip
    real_intent = payment.stripe_payment_intent_id
    Payment.objects.filter(pk=payment.pk).update(stripe_payment_intent_id="")  # answer lost
    stray = _stray_intent(stripe_client, payment, customer=contact.stripe_customer_id)

    report = reconcile_connection(connection=connection, since=timezone.now() - timedelta(days=1))

    payment.refresh_from_db()
    assert payment.status == "pending" and payment.stripe_payment_intent_id in ("", real_intent)
    kinds = {d["payment_intent"]: (d["kind"], d["repaired"]) for d in report.differences}
    assert kinds[stray] == ("mismatch", False)
    assert IntentMismatch.objects.get().payment_intent == stray
