"""Stripe events that change the portal's contacts (`stripe_event`, stage "contacts", after
the workflows' so a `customer.deleted` trigger still finds its contact)."""

from __future__ import annotations

from portal.services import contacts_stripe_customer_forget


def on_stripe_event(event) -> None:
    if event.type == "customer.deleted":
        customer = (event.payload.get("data") or {}).get("object") or {}
        contacts_stripe_customer_forget(
            workspace_id=event.endpoint.connection.workspace_id, customer_id=customer.get("id", "")
        )
