"""Stripe events that change payers (a STRIPE_EVENT_SUBSCRIBERS entry)."""

from __future__ import annotations

from invoices.payments import payer_customers_forget


def on_stripe_event(event) -> None:
    if event.type == "customer.deleted":
        customer = (event.payload.get("data") or {}).get("object") or {}
        payer_customers_forget(
            connection=event.endpoint.connection, customer_id=customer.get("id", "")
        )
