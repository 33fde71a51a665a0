"""Invoices follow their payments: an attempt takes its payment's outcome, and the invoice's
status follows what has been paid."""

from __future__ import annotations

from django.db.models import Sum
from django.utils import timezone

from automation.services.runs import runs_start_for_trigger
from billing.models import Payment
from invoices.models import Invoice, InvoicePayment, WorkItem

OPEN_ATTEMPTS = (InvoicePayment.Status.PENDING, InvoicePayment.Status.PROCESSING)


def invoice_attempt_follow(payment: Payment) -> None:
    """Called in the transaction that records the payment's new status."""
    attempt = InvoicePayment.objects.filter(payment=payment).first()
    if attempt is None:
        return
    invoice = Invoice.objects.select_for_update().get(pk=attempt.invoice_id)
    attempt = InvoicePayment.objects.select_for_update().get(pk=attempt.pk)
    if attempt.status == InvoicePayment.Status.SUCCEEDED:
        return  # counted already
    if payment.status == Payment.Status.SUCCEEDED:
        attempt.status = InvoicePayment.Status.SUCCEEDED
        invoice.amount_paid += attempt.amount
    elif payment.status == Payment.Status.PROCESSING:
        attempt.status = InvoicePayment.Status.PROCESSING
    elif payment.status in (Payment.Status.FAILED, Payment.Status.CANCELED):
        reason = payment.failure_message or "it was not completed in time and was canceled."
        attempt.status = InvoicePayment.Status.FAILED
        attempt.failure_message = reason[:500]
        invoice.last_failure = f"A payment of the invoice failed: {reason}"[:500]
    else:
        return
    attempt.save(update_fields=["status", "failure_message"])
    invoice_status_refresh(invoice)


def invoice_status_refresh(invoice: Invoice) -> None:
    """Paid, payment processing, partially paid or open, from what has been paid and what is
    still settling; a paid invoice closes its work item and fires "invoice paid" once."""
    if invoice.status in (Invoice.Status.VOID, Invoice.Status.DRAFT):
        return
    was_paid = invoice.status == Invoice.Status.PAID
    processing = invoice.attempts.filter(status=InvoicePayment.Status.PROCESSING).exists()
    if invoice.amount_paid >= invoice.total:
        invoice.status = Invoice.Status.PAID
        invoice.last_failure = ""
    elif processing:
        invoice.status = Invoice.Status.PROCESSING
    elif invoice.amount_paid:
        invoice.status = Invoice.Status.PARTIALLY_PAID
    else:
        invoice.status = Invoice.Status.OPEN
    invoice.save(update_fields=["status", "amount_paid", "last_failure", "updated_at"])
    if invoice.status == Invoice.Status.PAID and not was_paid:
        invoice.work_items.filter(status=WorkItem.Status.OPEN).update(
            status=WorkItem.Status.CLOSED, closed_at=timezone.now()
        )
        runs_start_for_trigger(
            workspace=invoice.workspace,
            trigger_type="invoice_paid",
            trigger=_trigger(invoice),
            cause=f"invoice_paid:{invoice.uuid}",
            contact=invoice.contact,
        )


def _trigger(invoice: Invoice) -> dict:
    return {
        "type": "invoice_paid",
        "invoice": {
            "id": str(invoice.uuid),
            "number": invoice.display_number,
            "amount_paid": invoice.amount_paid,
            "total": invoice.total,
            "currency": invoice.currency,
        },
    }


def reserved(invoice: Invoice) -> int:
    """What attempts under way hold of the balance."""
    return invoice.attempts.filter(status__in=OPEN_ATTEMPTS).aggregate(s=Sum("amount"))["s"] or 0
