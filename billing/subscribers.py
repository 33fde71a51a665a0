"""Stripe events keep the ledger in step with Stripe (a STRIPE_EVENT_SUBSCRIBERS entry)."""

from __future__ import annotations

from django.db import transaction

from billing.models import Payment
from billing.services.ledger import payment_apply_intent, payment_log
from integrations.gateway.payments import payment_intent_from_event


def on_stripe_event(event) -> None:
    obj = (event.payload.get("data") or {}).get("object") or {}
    workspace = event.endpoint.connection.workspace_id
    if event.type.startswith("payment_intent."):
        payment = Payment.objects.filter(
            workspace=workspace, stripe_payment_intent_id=obj.get("id", "")
        ).first() or _by_metadata(workspace, obj)
        if payment is not None:
            payment_apply_intent(
                payment=payment, intent=payment_intent_from_event(obj), via="webhook"
            )
    elif event.type == "charge.refunded":
        _refunded(workspace, obj)


def _refunded(workspace, charge: dict) -> None:
    """Refunds made in Stripe's dashboard reach the ledger too (never lowering it)."""
    with transaction.atomic():
        payment = (
            Payment.objects.select_for_update()
            .filter(
                workspace=workspace, stripe_payment_intent_id=charge.get("payment_intent") or "-"
            )
            .first()
        ) or _by_metadata(workspace, charge)  # a charge carries its intent's metadata
        refunded = int(charge.get("amount_refunded") or 0)
        if payment is not None and refunded > payment.amount_refunded:
            payment.amount_refunded = min(refunded, payment.amount)
            payment.save(update_fields=["amount_refunded", "updated_at"])
            payment_log(payment, "webhook", "Refund recorded from Stripe")


def _by_metadata(workspace, intent: dict):
    """A payment whose creating call lost its answer knows no intent id yet: the intent's
    metadata names our row."""
    row = (intent.get("metadata") or {}).get("portal_payment")
    if not row:
        return None
    try:
        return Payment.objects.filter(workspace=workspace, uuid=row).first()
    except ValueError:
        return None
