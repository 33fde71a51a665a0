"""The ledger: one Payment row per attempt, kept in step with Stripe's PaymentIntent.

`payment_apply_intent` is the one place a payment's status changes from what Stripe says,
whether it heard it from the API answer, the customer's return page or a webhook; the
effects of success (bookings charged, link paid, e-mails, the trigger) happen exactly once.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from billing.models import Payment, PaymentEvent
from integrations.gateway.payments import PaymentIntent

logger = logging.getLogger(__name__)

_STATUS = {
    "succeeded": Payment.Status.SUCCEEDED,
    "processing": Payment.Status.PROCESSING,
    "requires_action": Payment.Status.REQUIRES_ACTION,
    "requires_confirmation": Payment.Status.PENDING,
    "requires_payment_method": Payment.Status.PENDING,
    "requires_capture": Payment.Status.PROCESSING,
    "canceled": Payment.Status.CANCELED,
}
FINAL = {Payment.Status.SUCCEEDED, Payment.Status.CANCELED}


# What an attempt belongs to. The key is unique across the whole ledger (it is what Stripe
# sees, and two workspaces may share an account), but a form's token arrives from the browser:
# a row is only "the same attempt" when it is the caller's, never another workspace's,
# contact's, tab's (source) or object's (origin: the invoice, the workflow step).
OWNER_FIELDS = ("workspace", "connection", "contact", "source", "origin")
FORM_EXPIRED = "This form has expired; reload the page and try again."


def payment_start(*, idempotency_key: str, defaults: dict, appointments=()) -> Payment:
    """The ledger row of an attempt, created once whatever repeats (its key is unique).

    A key already used by a row of another owner (see OWNER_FIELDS) raises ValidationError
    before anything is sent to Stripe: a token copied from elsewhere is refused, not merged."""
    try:
        with transaction.atomic():
            payment = Payment.objects.create(idempotency_key=idempotency_key, **defaults)
            if appointments:
                payment.appointments.set(appointments)
            PaymentEvent.objects.create(
                payment=payment, kind="created", message=_created_message(payment)
            )
            return payment
    except IntegrityError:
        scope = {name: defaults[name] for name in OWNER_FIELDS if name in defaults}
        payment = Payment.objects.filter(idempotency_key=idempotency_key, **scope).first()
    if payment is None:
        raise ValidationError(FORM_EXPIRED)
    same = (payment.amount, payment.currency) == (defaults["amount"], defaults["currency"].lower())
    if not same:  # the same attempt with other terms: never charge what was not confirmed
        raise ValidationError(
            "This payment was started with another amount; reload the page to start again."
        )
    return payment


def _created_message(payment: Payment) -> str:
    who = payment.started_by.get_username() if payment.started_by else payment.origin or "-"
    return f"{payment.get_source_display()} started by {who}"


def payment_log(payment: Payment, kind: str, message: str) -> None:
    PaymentEvent.objects.create(payment=payment, kind=kind, message=message[:500])


def payment_fail(*, payment: Payment, code: str, message: str, intent_id: str = "") -> Payment:
    """Record a refused attempt (a decline, an error). A payment that already succeeded
    stays succeeded: a late error about an earlier try must not undo it."""
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        if locked.status in FINAL:
            return locked
        locked.status = Payment.Status.FAILED
        locked.failure_code, locked.failure_message = code[:100], message
        if intent_id:
            locked.stripe_payment_intent_id = intent_id
        locked.save()
        payment_log(locked, "failed", f"{code}: {message}")
        _tell_listeners(locked)
    return locked


def _tell_listeners(payment: Payment) -> None:
    """Apps above billing hear of status changes (invoices follow their payments)."""
    for path in settings.BILLING_PAYMENT_LISTENERS:
        import_string(path)(payment)


def payment_apply_intent(*, payment: Payment, intent: PaymentIntent, via: str) -> Payment:
    """Bring the row in step with the PaymentIntent; `via` names who told us (api, return
    page, webhook). Success effects run once, in the transaction that records success."""
    new_status = _STATUS.get(intent.status, Payment.Status.PENDING)
    if intent.status == "requires_payment_method" and intent.last_error_code:
        new_status = Payment.Status.FAILED
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        if locked.status in FINAL and new_status != locked.status:
            return locked  # success and cancellation are final; older news is ignored
        became_successful = (
            new_status == Payment.Status.SUCCEEDED and locked.status != Payment.Status.SUCCEEDED
        )
        changed = new_status != locked.status
        locked.status = new_status
        locked.stripe_payment_intent_id = intent.id
        locked.stripe_charge_id = intent.latest_charge or locked.stripe_charge_id
        locked.stripe_customer_id = intent.customer or locked.stripe_customer_id
        if new_status == Payment.Status.FAILED:
            locked.failure_code = intent.last_error_code
            locked.failure_message = intent.last_error_message
        elif new_status == Payment.Status.SUCCEEDED:
            locked.failure_code = locked.failure_message = ""
        if became_successful:
            locked.succeeded_at = timezone.now()
        locked.save()
        if changed:
            detail = f" ({intent.last_error_message})" if new_status == "failed" else ""
            payment_log(locked, via, f"{locked.get_status_display()}{detail}")
        if became_successful:
            from billing.services.effects import payment_succeeded  # effects sit above ledger

            payment_succeeded(locked)
        if changed:
            _tell_listeners(locked)
    return locked
