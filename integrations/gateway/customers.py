"""Stripe customers and their saved payment methods."""

from __future__ import annotations

import typing
from dataclasses import dataclass

from stripe.params import CustomerCreateParamsTaxIdDatum

from integrations.gateway.client import Credentials, make_client
from integrations.gateway.errors import NOT_FOUND, GatewayError, translate_errors

# The tax ID types Stripe takes at the pinned API version, as stripe-python declares them.
TAX_ID_TYPES: tuple[str, ...] = typing.get_args(
    typing.get_args(typing.get_type_hints(CustomerCreateParamsTaxIdDatum)["type"])[0]
)


@dataclass(frozen=True)
class Customer:
    id: str
    name: str
    email: str
    default_payment_method: str
    phone: str = ""
    created: int = 0
    deleted: bool = False
    default_source: str = ""


def _customer(obj: dict) -> Customer:
    settings = obj.get("invoice_settings") or {}
    source = obj.get("default_source") or ""
    return Customer(
        id=obj["id"],
        name=obj.get("name") or "",
        email=obj.get("email") or "",
        default_payment_method=settings.get("default_payment_method") or "",
        phone=obj.get("phone") or "",
        created=int(obj.get("created") or 0),
        deleted=bool(obj.get("deleted")),
        default_source=source if isinstance(source, str) else source.get("id", ""),
    )


def customer_create(
    credentials: Credentials,
    *,
    name: str,
    email: str,
    idempotency_key: str,
    metadata=None,
    default_source: str = "",
    **fields,
) -> Customer:
    """Create a customer; `fields` are further Stripe parameters (phone, description, balance,
    tax_id_data, source, shipping...), blank ones left out.

    Stripe's create takes a `source` (a token or source, which becomes the default) but no
    `default_source`: that one is set by an update once the customer exists, under its own
    idempotency key derived from `idempotency_key`."""
    params = {"metadata": metadata or {}}
    given = {"name": name, "email": email, **fields}
    params.update({k: v for k, v in given.items() if v not in ("", None, {}, [])})
    client = make_client(credentials)
    with translate_errors(credentials):
        obj = client.v1.customers.create(
            params=params, options={"idempotency_key": idempotency_key}
        ).to_dict()
        # The `source` given is already the default; its token is not the source's id.
        if default_source and default_source not in (
            obj.get("default_source"),
            params.get("source"),
        ):
            obj = client.v1.customers.update(
                obj["id"],
                params={"default_source": default_source},
                options={"idempotency_key": f"{idempotency_key}:default_source"},
            ).to_dict()
    return _customer(obj)


def customer_retrieve(credentials: Credentials, *, customer_id: str) -> Customer:
    with translate_errors(credentials):
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
    with translate_errors(credentials):
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


@dataclass(frozen=True)
class CustomerPage:
    customers: list[Customer]
    has_more: bool
    next_cursor: str  # `starting_after` (a list) or `page` (a search) for the next page


def _search_query(text: str) -> str:
    """Stripe's search syntax: e-mail or name containing the text (quotes escaped)."""
    value = text.replace("\\", "\\\\").replace("'", "\\'")
    return f"email~'{value}' OR name~'{value}'"


def customers_page(
    credentials: Credentials, *, query: str = "", cursor: str = "", limit: int = 20
) -> CustomerPage:
    """One page of the account's customers, newest first; with `query`, a search by e-mail
    or name. `cursor` is the `next_cursor` of the page before."""
    client = make_client(credentials)
    with translate_errors(credentials):
        if query:
            params = {"query": _search_query(query), "limit": limit}
            if cursor:
                params["page"] = cursor
            result = client.v1.customers.search(params=params).to_dict()
            next_cursor = result.get("next_page") or ""
        else:
            params = {"limit": limit}
            if cursor:
                params["starting_after"] = cursor
            result = client.v1.customers.list(params=params).to_dict()
            data = result.get("data") or []
            next_cursor = data[-1]["id"] if data and result.get("has_more") else ""
    customers = [_customer(obj) for obj in result.get("data") or []]
    return CustomerPage(customers, bool(result.get("has_more")), next_cursor)


def customers_with_metadata(credentials: Credentials, *, key: str, value: str) -> list[Customer]:
    """The account's customers whose metadata `key` is `value`, oldest first (Stripe's search;
    a customer made in the last minute may not be found yet)."""
    quoted = value.replace("\\", "\\\\").replace("'", "\\'")
    params = {"query": f"metadata['{key}']:'{quoted}'", "limit": 20}
    with translate_errors(credentials):
        result = make_client(credentials).v1.customers.search(params=params).to_dict()
    found = [_customer(obj) for obj in result.get("data") or []]
    return sorted(found, key=lambda customer: (customer.created, customer.id))


def customer_delete(credentials: Credentials, *, customer_id: str) -> None:
    with translate_errors(credentials):
        make_client(credentials).v1.customers.delete(customer_id)


@dataclass(frozen=True)
class Card:
    id: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    is_default: bool


def _card(pm: dict, default_id: str) -> Card:
    card = pm.get("card") or {}
    return Card(
        id=pm["id"],
        brand=card.get("brand") or "",
        last4=card.get("last4") or "",
        exp_month=int(card.get("exp_month") or 0),
        exp_year=int(card.get("exp_year") or 0),
        is_default=bool(default_id) and pm["id"] == default_id,
    )


def cards_list(credentials: Credentials, *, customer_id: str) -> list[Card]:
    """The customer's saved cards, the default first."""
    client = make_client(credentials)
    with translate_errors(credentials):
        customer = _customer(client.v1.customers.retrieve(customer_id).to_dict())
        listing = client.v1.payment_methods.list(
            params={"customer": customer_id, "type": "card", "limit": 100}
        )
    cards = [
        _card(pm, customer.default_payment_method) for pm in (i.to_dict() for i in listing.data)
    ]
    return sorted(cards, key=lambda c: not c.is_default)


def payment_method_detach(
    credentials: Credentials, *, customer_id: str, payment_method_id: str
) -> Card | None:
    """Detach a saved payment method from `customer_id`; the card as it was, or None when it
    is attached to no customer (detached before: nothing to do).

    One saved for another customer is refused as not found (NOT_FOUND, 404) and nothing is
    detached: Stripe's detach takes any payment method of the account, so the check is ours."""
    client = make_client(credentials)
    with translate_errors(credentials):
        pm = client.v1.payment_methods.retrieve(payment_method_id).to_dict()
    owner = pm.get("customer") or ""
    owner = owner if isinstance(owner, str) else owner.get("id", "")
    if not owner:
        return None
    if owner != customer_id:
        raise GatewayError(
            NOT_FOUND, "This customer has no such saved payment method.", http_status=404
        )
    with translate_errors(credentials):
        client.v1.payment_methods.detach(payment_method_id)
    return _card(pm, "")


@dataclass(frozen=True)
class PaymentSummary:
    id: str
    amount: int
    currency: str
    status: str
    created: int
    description: str


def payments_list(credentials: Credentials, *, customer_id: str, limit: int = 10):
    """The customer's most recent PaymentIntents, newest first."""
    with translate_errors(credentials):
        listing = make_client(credentials).v1.payment_intents.list(
            params={"customer": customer_id, "limit": limit}
        )
    return [
        PaymentSummary(
            id=pi["id"],
            amount=int(pi.get("amount") or 0),
            currency=pi.get("currency") or "",
            status=pi.get("status") or "",
            created=int(pi.get("created") or 0),
            description=pi.get("description") or "",
        )
        for pi in (item.to_dict() for item in listing.data)
    ]
