"""Refunds: full or partial, never more than what is left, each once."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from billing.models import Payment, Refund
from billing.services.ledger import FORM_EXPIRED, payment_log
from integrations.gateway.errors import GatewayError
from integrations.gateway.payments import refund_create
from integrations.selectors import connection_credentials
from portal.audit import audit_record
from portal.models import AuditEntry
from portal.money import format_amount


def payment_refund(
    *, payment: Payment, amount: int, reason: str, user, attempt, address: str | None = None
) -> Refund:
    """Refund `amount` of a succeeded payment. The amount is reserved on the payment under a
    row lock before Stripe is called, so two refunds at once cannot exceed what was paid;
    `attempt` (the form's token) makes a repeated submission the same refund, and a refund
    left pending by an unanswered call is completed by it (same Stripe key). A token already
    used for another payment (another workspace's, say) is refused and changes nothing.
    The audit trail records the refund once Stripe has made it: by `user` (who asked for
    it), from `address` (of the request that completed it)."""
    if amount <= 0:
        raise ValidationError({"amount": "The amount must be greater than zero."})
    refund = _same_attempt(payment=payment, amount=amount, attempt=attempt)
    if refund is None:
        refund = _reserve(payment=payment, amount=amount, reason=reason, user=user, attempt=attempt)
    if refund.status != Refund.Status.PENDING:
        return refund
    return _send(refund=refund, payment=payment, address=address)


def _same_attempt(*, payment: Payment, amount: int, attempt) -> Refund | None:
    """The refund this token already made for this payment; None if the token is new.
    The lookup is by token alone (it is unique) so that a token of another payment is seen
    and refused, never taken for a new one."""
    refund = Refund.objects.filter(uuid=attempt).first()
    if refund is None:
        return None
    if refund.payment_id != payment.pk:
        raise ValidationError(FORM_EXPIRED)
    if refund.amount != amount:  # the same attempt with other terms: never refund those
        raise ValidationError("This refund was started with another amount; reload the page.")
    return refund


def _reserve(*, payment: Payment, amount: int, reason: str, user, attempt) -> Refund:
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        if locked.status != Payment.Status.SUCCEEDED:
            raise ValidationError("Only a succeeded payment can be refunded.")
        if amount > locked.refundable:
            left = format_amount(locked.refundable, locked.currency)
            raise ValidationError(
                {"amount": f"At most {left} can be refunded."}
                if locked.refundable
                else "This payment has been refunded in full already."
            )
        try:
            with transaction.atomic():
                refund = Refund.objects.create(
                    uuid=attempt, payment=locked, amount=amount, reason=reason, created_by=user
                )
        except IntegrityError:  # the same token at the same moment: that request's refund
            same = _same_attempt(payment=payment, amount=amount, attempt=attempt)
            if same is None:
                raise
            return same
        locked.amount_refunded += amount
        locked.save(update_fields=["amount_refunded", "updated_at"])
    return refund


def _send(*, refund: Refund, payment: Payment, address: str | None) -> Refund:
    """Ask Stripe for the reserved refund, under the refund's own key (so a repeat is free)."""
    amount, reason = refund.amount, refund.reason
    try:
        result = refund_create(
            connection_credentials(payment.connection),
            payment_intent=payment.stripe_payment_intent_id,
            amount=amount,
            reason=reason if reason in ("duplicate", "fraudulent", "requested_by_customer") else "",
            metadata={"portal_refund": str(refund.uuid)},
            idempotency_key=f"refund:{refund.uuid}",
        )
    except GatewayError as error:
        if error.retryable:
            raise  # the reservation stays: retrying the same attempt completes it
        with transaction.atomic():
            # Release the reservation once, whoever else is completing this refund.
            failed = Refund.objects.filter(pk=refund.pk, status=Refund.Status.PENDING).update(
                status=Refund.Status.FAILED, failure_message=error.message
            )
            if failed:
                locked = Payment.objects.select_for_update().get(pk=payment.pk)
                locked.amount_refunded -= amount
                locked.save(update_fields=["amount_refunded", "updated_at"])
        raise ValidationError(f"Stripe refused the refund: {error.message}") from None
    with transaction.atomic():
        done = Refund.objects.filter(pk=refund.pk, status=Refund.Status.PENDING).update(
            status=Refund.Status.SUCCEEDED, stripe_refund_id=result.id
        )
        if done:
            payment_log(
                payment,
                "refund",
                f"Refunded {format_amount(amount, payment.currency)}"
                + (f" ({reason})" if reason else ""),
            )
            _audit_refund(refund, payment, address=address)
    refund.refresh_from_db()
    return refund


def _audit_refund(refund: Refund, payment: Payment, *, address: str | None) -> None:
    amount = format_amount(refund.amount, payment.currency)
    paid = format_amount(payment.amount, payment.currency)
    payer = payment.contact.name if payment.contact else payment.stripe_customer_id or "-"
    refunded = Payment.objects.filter(pk=payment.pk).values_list("amount_refunded", flat=True)
    after = refunded.get()
    audit_record(
        workspace=payment.workspace,
        actor=refund.created_by,
        address=address,
        action=AuditEntry.Action.PAYMENT_REFUND,
        summary=f"Refunded {amount} of {payer}'s payment of {paid}"
        + (f" ({refund.reason})" if refund.reason else ""),
        changes={
            "refunded": {
                "before": format_amount(after - refund.amount, payment.currency),
                "after": format_amount(after, payment.currency),
            }
        },
        obj=refund,
        label=f"{amount} of {paid} to {payer}",
    )
