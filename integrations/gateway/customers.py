"""Stripe customers and their saved payment methods."""

from __future__ import annotations

from dataclasses import dataclass

from integrations.gateway.client import Credentials, make_client
from integrations.gateway.errors import translate_errors


@dataclass(frozen=True)
class Customer:
    id: str
    name: str
    email: str
    default_payment_method: str


def _customer(obj) -> Customer:
    settings = obj.get("invoice_settings") or {}
    return Customer(
        id=obj["id"],
        name=obj.get("name") or "",
        email=obj.get("email") or "",
        default_payment_method=settings.get("default_payment_method") or "",
    )


def customer_create(
    credentials: Credentials, *, name: str, email: str, idempotency_key: str, metadata=None
) -> Customer:
    params = {"name": name, "email": email, "metadata": metadata or {}}
    with translate_errors():
        obj = (
            make_client(credentials)
            .v1.customers.create(params=params, options={"idempotency_key": idempotency_key})
            .to_dict()
        )
    return _customer(obj)


def customer_retrieve(credentials: Credentials, *, customer_id: str) -> Customer:
    with translate_errors():
        return _customer(make_client(credentials).v1.customers.retrieve(customer_id).to_dict())


def payment_method_attach(
    credentials: Credentials,
    *,
    customer_id: str,
    payment_method: str,
    idempotency_key: str,
    make_default: bool = False,
) -> str:
    """Attach a payment method to a customer; returns the attached method's id."""
    client = make_client(credentials)
    with translate_errors():
        attached = client.v1.payment_methods.attach(
            payment_method,
            params={"customer": customer_id},
            options={"idempotency_key": idempotency_key},
        )
        if make_default:
            client.v1.customers.update(
                customer_id,
                params={"invoice_settings": {"default_payment_method": attached["id"]}},
            )
    return attached.id
