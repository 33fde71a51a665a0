"""Stripe events keep the ledger in step with Stripe (`stripe_event`, stage "ledger").

The event only finds the row (by intent id, else by the metadata our calls write); whether
the intent is that row's is for the ledger to decide (`payment_apply_intent` and
`payment_apply_refunded`), told which Stripe account the event came from."""

from __future__ import annotations

from billing.models import Payment
from billing.services.ledger import payment_apply_intent, payment_apply_refunded
from integrations.gateway.payments import PaymentIntent, payment_intent_from_event


def on_stripe_event(event) -> None:
    obj = (event.payload.get("data") or {}).get("object") or {}
    connection = event.endpoint.connection
    workspace = connection.workspace_id
    if event.type.startswith("payment_intent."):
        payment = _by_intent(workspace, obj.get("id")) or _by_metadata(workspace, obj)
        if payment is not None:
            payment_apply_intent(
                payment=payment,
                intent=payment_intent_from_event(obj),
                via="webhook",
                connection=connection,
            )
    elif event.type == "charge.refunded":
        _refunded(workspace, connection, obj)


def _refunded(workspace, connection, charge: dict) -> None:
    """Refunds made in Stripe's dashboard reach the ledger too (never lowering it)."""
    # A charge carries its intent's id, terms and metadata.
    payment = _by_intent(workspace, charge.get("payment_intent")) or _by_metadata(workspace, charge)
    if payment is None:
        return
    payment_apply_refunded(
        payment=payment,
        intent=_intent_of_charge(charge),
        amount_refunded=int(charge.get("amount_refunded") or 0),
        via="webhook",
        connection=connection,
    )


def _intent_of_charge(charge: dict) -> PaymentIntent:
    """What a charge says of its PaymentIntent: enough to tell whether it is the row's."""
    return PaymentIntent(
        id=charge.get("payment_intent") or "",
        status=charge.get("status") or "",
        amount=int(charge.get("amount") or 0),
        currency=charge.get("currency") or "",
        customer=charge.get("customer") or "",
        latest_charge=charge.get("id") or "",
        client_secret="",
        created=int(charge.get("created") or 0),
    )


def _by_intent(workspace, intent_id) -> Payment | None:
    if not intent_id:
        return None
    return Payment.objects.filter(workspace=workspace, stripe_payment_intent_id=intent_id).first()


def _by_metadata(workspace, intent: dict) -> Payment | None:
    """A payment whose creating call lost its answer knows no intent id yet: the intent's
    metadata names our row."""
    row = (intent.get("metadata") or {}).get("portal_payment")
    if not row:
        return None
    try:
        return Payment.objects.filter(workspace=workspace, uuid=row).first()
    except ValueError:
        return None
