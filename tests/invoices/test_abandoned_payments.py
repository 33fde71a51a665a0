"""A payer who opens the new-card form and walks away: the amount is held, then the intent is
canceled in Stripe and the amount released; a forgotten page confirming late cannot pay the
invoice twice; an intent confirmed while its webhook was lost is recorded, not canceled."""

from __future__ import annotations

from datetime import timedelta

import pytest
import stripe
from django.utils import timezone

from invoices.abandoned import abandoned_attempts_cancel
from invoices.models import Invoice, InvoicePayment
from invoices.payments import available_to_pay, invoice_pay_card
from tests.invoices.test_pay_service import _saved_card


def _walk_away(work_item, payer, amount=20000):
    """Start a new-card payment of `amount` and never confirm it; 31 minutes pass."""
    started = invoice_pay_card(work_item=work_item, payer=payer, amount=amount)
    assert started.client_secret
    InvoicePayment.objects.filter(pk=started.attempt.pk).update(
        created_at=timezone.now() - timedelta(minutes=31)
    )
    return _intent_id(started.attempt)


def _intent_id(attempt) -> str:
    return InvoicePayment.objects.get(pk=attempt.pk).payment.stripe_payment_intent_id


def test_the_amount_stays_held_until_stripe_has_canceled_the_intent(
    work_item, payer, stripe_client, sandbox, connection
):
    intent_id = _walk_away(work_item, payer)
    invoice = Invoice.objects.get()
    assert available_to_pay(invoice) == 0  # held past 30 minutes until the sweep runs

    assert abandoned_attempts_cancel() == 1
    assert stripe_client.v1.payment_intents.retrieve(intent_id).status == "canceled"
    attempt = InvoicePayment.objects.get()
    assert attempt.status == "failed" and "not completed in time" in attempt.failure_message
    assert available_to_pay(invoice) == invoice.total
    invoice.refresh_from_db()
    assert "not completed in time" in invoice.last_failure

    # Someone else pays it all; the forgotten page confirming now fails at Stripe.
    card = _saved_card(sandbox, connection, payer)
    invoice_pay_card(work_item=work_item, payer=payer, amount=invoice.total, payment_method_id=card)
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.payment_intents.confirm(
            intent_id, params={"payment_method": "pm_card_visa"}
        )
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_paid) == ("paid", invoice.total)
    assert abandoned_attempts_cancel() == 0  # nothing left to settle


def test_an_attempt_younger_than_30_minutes_is_left_alone(work_item, payer, stripe_client):
    started = invoice_pay_card(work_item=work_item, payer=payer, amount=5000)
    assert abandoned_attempts_cancel() == 0
    intent = stripe_client.v1.payment_intents.retrieve(_intent_id(started.attempt))
    assert intent.status == "requires_payment_method"
    assert InvoicePayment.objects.get().status == "pending"


def test_an_intent_confirmed_while_its_webhook_was_lost_is_recorded_not_canceled(
    work_item, payer, stripe_client
):
    intent_id = _walk_away(work_item, payer, amount=8000)
    stripe_client.v1.payment_intents.confirm(intent_id, params={"payment_method": "pm_card_visa"})
    assert abandoned_attempts_cancel() == 1
    assert stripe_client.v1.payment_intents.retrieve(intent_id).status == "succeeded"
    invoice = Invoice.objects.get()
    assert (invoice.status, invoice.amount_paid) == ("partially_paid", 8000)
    assert InvoicePayment.objects.get().status == "succeeded"


def test_the_sweep_is_scheduled_every_five_minutes(db):
    from django_q.models import Schedule

    schedule = Schedule.objects.get(func="invoices.tasks.cancel_abandoned_payments")
    assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == ("I", 5, -1)
