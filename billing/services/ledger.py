"""The ledger: one Payment row per attempt, kept in step with Stripe's PaymentIntent.

`payment_apply_intent` is the one place a payment's status changes from what Stripe says,
whether it heard it from the API answer, the customer's return page, a webhook or
reconciliation; the effects of success (bookings charged, link paid, e-mails, the trigger)
happen exactly once. It applies an intent only when `intent_mismatch` finds nothing wrong
(the same rule guards refunds learnt from Stripe, `payment_apply_refunded`); anything else
is recorded for the owners and changes nothing.
"""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.hooks import payment_status_changed
from billing.models import IntentMismatch, Payment, PaymentEvent
from integrations.gateway.payments import PaymentIntent
from portal.audit import audit_record
from portal.models import AuditEntry
from portal.money import format_amount

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


def payment_start(
    *,
    idempotency_key: str,
    defaults: dict,
    appointments=(),
    actor=None,
    address: str | None = None,
) -> Payment:
    """The ledger row of an attempt, created once whatever repeats (its key is unique).

    A key already used by a row of another owner (see OWNER_FIELDS) raises ValidationError
    before anything is sent to Stripe: a token copied from elsewhere is refused, not merged.
    The row's creation is the charge in the audit trail: by `actor` (else the member who
    started it; a workflow passes its own name) from `address`."""
    try:
        with transaction.atomic():
            payment = Payment.objects.create(idempotency_key=idempotency_key, **defaults)
            if appointments:
                payment.appointments.set(appointments)
            PaymentEvent.objects.create(
                payment=payment, kind="created", message=_created_message(payment)
            )
            _audit_charge(payment, actor=actor, address=address)
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


# Who charged when no member did and no workflow said so.
LINK_PAYER = "customer on the payment link page"


def _audit_charge(payment: Payment, *, actor, address) -> None:
    amount = format_amount(payment.amount, payment.currency)
    payer = payment.contact.name if payment.contact else payment.stripe_customer_id or "-"
    if actor is None:
        actor = payment.started_by
    if actor is None and payment.source == Payment.Source.PAYMENT_LINK:
        actor = LINK_PAYER
    audit_record(
        workspace=payment.workspace,
        actor=actor,
        address=address,
        action=AuditEntry.Action.PAYMENT_CHARGE,
        summary=f"Charge of {amount} to {payer} ({payment.get_source_display().lower()})",
        changes={
            "amount": {"before": None, "after": amount},
            "customer": {"before": None, "after": payer},
            "source": {"before": None, "after": payment.source},
            "description": {"before": None, "after": payment.description},
        },
        obj=payment,
        label=f"{amount} to {payer}",
    )


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
        _tell_apps_above(locked)
    return locked


def _tell_apps_above(payment: Payment) -> None:
    """Apps above billing hear of status changes (invoices follow their payments)."""
    payment_status_changed.send(payment)


def intent_mismatch(*, payment: Payment, intent: PaymentIntent, connection) -> str:
    """Why `intent` is not `payment`'s PaymentIntent, in words ("" when it is).

    Naming a row proves nothing: anyone who can create intents in the account can write
    `metadata[portal_payment]`. An intent is the row's only when it comes from the row's Stripe
    account (`connection`: where the caller read it), is for the row's amount and currency
    and, when the row knows its customer, that customer; and the row is bound to no other
    intent."""
    reasons = []
    if not _same_account(payment, connection):
        reasons.append("another Stripe account")
    if (intent.amount, intent.currency.lower()) != (payment.amount, payment.currency):
        theirs = format_amount(intent.amount, intent.currency or payment.currency)
        reasons.append(f"{theirs} instead of {format_amount(payment.amount, payment.currency)}")
    if payment.stripe_customer_id and intent.customer != payment.stripe_customer_id:
        reasons.append("another customer")
    if payment.stripe_payment_intent_id not in ("", intent.id):
        reasons.append(f"the payment has PaymentIntent {payment.stripe_payment_intent_id}")
    return "; ".join(reasons)


def _same_account(payment: Payment, connection) -> bool:
    if connection is None or payment.connection_id is None:
        return False
    if connection.workspace_id != payment.workspace_id:
        return False
    if connection.pk == payment.connection_id:
        return True
    ours = payment.connection  # reconnected: another row for the same account and mode
    return (ours.account_id, ours.mode) == (connection.account_id, connection.mode)


def _mismatch_record(
    *, payment: Payment, intent: PaymentIntent, connection, via: str, reasons: str
) -> None:
    """Keep the mismatch for the owners and tell them, once per row and intent."""
    try:
        with transaction.atomic():
            mismatch = IntentMismatch.objects.create(
                workspace_id=payment.workspace_id,
                connection=connection,
                payment=payment,
                payment_intent=intent.id,
                amount=intent.amount,
                currency=intent.currency.lower()[:3],
                customer=intent.customer,
                status=intent.status[:40],
                reasons=reasons[:500],
                via=via[:40],
            )
    except IntegrityError:
        return  # recorded, and the owners told, by an earlier delivery or pass
    payment_log(payment, "mismatch", f"PaymentIntent {intent.id} not applied: {reasons}")
    from billing.services.effects import intent_mismatch_notify  # effects sit above ledger

    transaction.on_commit(lambda: intent_mismatch_notify(mismatch.pk), robust=True)


def payment_apply_intent(
    *, payment: Payment, intent: PaymentIntent, via: str, connection=None
) -> Payment:
    """Bring the row in step with the PaymentIntent; `via` names who told us (api, return
    page, webhook, reconciliation) and `connection` the Stripe account the intent was read
    from (the payment's own when omitted: the caller asked Stripe with it).

    An intent that is not the row's (see `intent_mismatch`) changes nothing: it is recorded
    as an IntentMismatch and the row is returned as it was. Success effects run once, in the
    transaction that records success."""
    new_status = _STATUS.get(intent.status, Payment.Status.PENDING)
    if intent.status == "requires_payment_method" and intent.last_error_code:
        new_status = Payment.Status.FAILED
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        connection = connection if connection is not None else locked.connection
        reasons = intent_mismatch(payment=locked, intent=intent, connection=connection)
        if reasons:
            _mismatch_record(
                payment=locked, intent=intent, connection=connection, via=via, reasons=reasons
            )
            return locked
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
            _tell_apps_above(locked)
    return locked


def payment_apply_refunded(
    *, payment: Payment, intent: PaymentIntent, amount_refunded: int, via: str, connection
) -> int:
    """Raise the row's refunded amount to what Stripe says of `intent`'s charge (never lower
    it: a difference for reconciliation to report), under the same rule as
    `payment_apply_intent`. Returns the amount newly recorded (0 if none)."""
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        reasons = intent_mismatch(payment=locked, intent=intent, connection=connection)
        if reasons:
            _mismatch_record(
                payment=locked, intent=intent, connection=connection, via=via, reasons=reasons
            )
            return 0
        refunded = min(amount_refunded, locked.amount)
        if refunded <= locked.amount_refunded:
            return 0
        added = refunded - locked.amount_refunded
        locked.amount_refunded = refunded
        locked.save(update_fields=["amount_refunded", "updated_at"])
        payment_log(
            locked, via, f"Refund of {format_amount(added, locked.currency)} recorded from Stripe"
        )
    return added
