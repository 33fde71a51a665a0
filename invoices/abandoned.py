"""New-card invoice payments the payer never confirmed: canceled in Stripe, then released.

A new-card attempt holds its amount (nobody else can pay it meanwhile) until Stripe says what
became of it. After RESERVATION_TTL a schedule cancels its PaymentIntent: once canceled, a
late confirmation from the forgotten page fails at Stripe, so releasing the amount can never
lead to the invoice being paid twice. An intent that was confirmed after all (its webhook
missed) cannot be canceled: it is read back and recorded instead.
"""

from __future__ import annotations

import logging

from django.utils import timezone

from billing.services.ledger import payment_apply_intent
from integrations.gateway.errors import GatewayError
from integrations.gateway.payments import payment_intent_cancel, payment_intent_retrieve
from integrations.selectors import connection_credentials
from invoices.models import InvoicePayment
from invoices.payments import RESERVATION_TTL

logger = logging.getLogger(__name__)


def abandoned_attempts_cancel() -> int:
    """Cancel (or record, if they went through) the new-card attempts left pending longer than
    RESERVATION_TTL; returns how many were settled either way."""
    stale = InvoicePayment.objects.filter(
        status=InvoicePayment.Status.PENDING,
        method="card",
        created_at__lt=timezone.now() - RESERVATION_TTL,
        payment__stripe_payment_intent_id__gt="",
    ).select_related("payment__connection")
    settled = 0
    for attempt in stale:
        payment = attempt.payment
        credentials = connection_credentials(payment.connection)
        try:
            intent = payment_intent_cancel(
                credentials,
                payment_intent_id=payment.stripe_payment_intent_id,
                idempotency_key=f"{payment.idempotency_key}:cancel",
            )
        except GatewayError as error:
            try:  # confirmed meanwhile, or Stripe unreachable: ask what it is now
                intent = payment_intent_retrieve(
                    credentials, payment_intent_id=payment.stripe_payment_intent_id
                )
            except GatewayError:
                logger.warning("abandoned payment %s: %s", payment.uuid, error.message)
                continue  # the next sweep tries again; the amount stays held
        payment = payment_apply_intent(payment=payment, intent=intent, via="expiry")
        settled += payment.status in ("succeeded", "processing", "canceled", "failed")
    return settled
