"""Refunds: full or partial, never more than what is left, each once."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from billing.models import Payment, Refund
from billing.services.ledger import payment_log
from integrations.gateway.client import credentials_for
from integrations.gateway.errors import GatewayError
from integrations.gateway.payments import refund_create
from portal.money import format_amount


def payment_refund(*, payment: Payment, amount: int, reason: str, user, attempt) -> Refund:
    """Refund `amount` of a succeeded payment. The amount is reserved on the payment under a
    row lock before Stripe is called, so two refunds at once cannot exceed what was paid;
    `attempt` (the form's token) makes a repeated submission the same refund."""
    if amount <= 0:
        raise ValidationError({"amount": "The amount must be greater than zero."})
    existing = Refund.objects.filter(uuid=attempt).first()
    if existing is not None:
        return existing
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
        except IntegrityError:
            return Refund.objects.get(uuid=attempt)
        locked.amount_refunded += amount
        locked.save(update_fields=["amount_refunded", "updated_at"])
    try:
        result = refund_create(
            credentials_for(payment.connection),
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
            locked = Payment.objects.select_for_update().get(pk=payment.pk)
            locked.amount_refunded -= amount
            locked.save(update_fields=["amount_refunded", "updated_at"])
            Refund.objects.filter(pk=refund.pk).update(
                status=Refund.Status.FAILED, failure_message=error.message
            )
        raise ValidationError(f"Stripe refused the refund: {error.message}") from None
    Refund.objects.filter(pk=refund.pk).update(
        status=Refund.Status.SUCCEEDED, stripe_refund_id=result.id
    )
    payment_log(
        payment,
        "refund",
        f"Refunded {format_amount(amount, payment.currency)}" + (f" ({reason})" if reason else ""),
    )
    refund.refresh_from_db()
    return refund
