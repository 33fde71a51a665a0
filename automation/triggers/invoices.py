from __future__ import annotations

from automation.triggers.base import Trigger


class InvoicePaid(Trigger):
    """Emitted by invoices when an invoice becomes paid."""

    key = "invoice_paid"
    label = "Invoice paid"
    outputs = ["type", "invoice.id", "invoice.number", "invoice.amount_paid", "invoice.currency"]
