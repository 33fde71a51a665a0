"""What invoices hears from the apps below it: a deleted Stripe customer leaves the payers'
profiles, and invoice payments follow the status of their payments."""

from __future__ import annotations

from invoices.payments import payer_customers_forget
from invoices.settlement import invoice_attempt_follow


def on_stripe_event(event) -> None:
    """`stripe_event`, stage "payers"."""
    if event.type == "customer.deleted":
        customer = (event.payload.get("data") or {}).get("object") or {}
        payer_customers_forget(
            connection=event.endpoint.connection, customer_id=customer.get("id", "")
        )


def on_payment_status_changed(payment) -> None:
    """`payment_status_changed`, stage "invoices": in the transaction recording the change."""
    invoice_attempt_follow(payment)
