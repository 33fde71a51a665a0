"""PaymentIntents, charges and refunds."""

from __future__ import annotations

from dataclasses import dataclass

from integrations.gateway.client import Credentials, make_client
from integrations.gateway.errors import translate_errors


@dataclass(frozen=True)
class PaymentIntent:
    id: str
    status: str
    amount: int
    currency: str
    customer: str
    latest_charge: str
    client_secret: str
    created: int
    last_error_code: str = ""
    last_error_message: str = ""


def payment_intent_from_event(obj: dict) -> PaymentIntent:
    """The PaymentIntent carried by a `payment_intent.*` event."""
    return _intent(obj)


def _intent(obj: dict) -> PaymentIntent:
    error = obj.get("last_payment_error") or {}
    charge = obj.get("latest_charge") or ""
    return PaymentIntent(
        id=obj["id"],
        status=obj.get("status") or "",
        amount=int(obj.get("amount") or 0),
        currency=obj.get("currency") or "",
        customer=obj.get("customer") or "",
        latest_charge=charge["id"] if isinstance(charge, dict) else charge,
        client_secret=obj.get("client_secret") or "",
        created=int(obj.get("created") or 0),
        last_error_code=error.get("decline_code") or error.get("code") or "",
        last_error_message=error.get("message") or "",
    )


def payment_intent_create(
    credentials: Credentials,
    *,
    amount: int,
    currency: str,
    idempotency_key: str,
    customer: str = "",
    payment_method: str = "",
    off_session: bool = False,
    confirm: bool = False,
    description: str = "",
    receipt_email: str = "",
    metadata: dict | None = None,
    automatic_payment_methods: bool | None = None,
    setup_future_usage: str = "",
    payment_method_types: list[str] | None = None,
    mandate_data: dict | None = None,
) -> PaymentIntent:
    """Create (and with `confirm`, confirm) a PaymentIntent. Declines raise GatewayError
    PAYMENT_REQUIRED with Stripe's code (e.g. card_declined, authentication_required)."""
    params: dict = {"amount": amount, "currency": currency.lower(), "metadata": metadata or {}}
    optional = {
        "customer": customer,
        "payment_method": payment_method,
        "description": description,
        "receipt_email": receipt_email,
        "setup_future_usage": setup_future_usage,
    }
    params.update({k: v for k, v in optional.items() if v})
    if confirm:
        params["confirm"] = True
    if off_session:
        params["off_session"] = True
    if payment_method_types:
        params["payment_method_types"] = payment_method_types
    if mandate_data:
        params["mandate_data"] = mandate_data
    if automatic_payment_methods is not None:
        params["automatic_payment_methods"] = {"enabled": automatic_payment_methods}
        if automatic_payment_methods and (confirm or off_session):
            params["automatic_payment_methods"]["allow_redirects"] = "never"
    with translate_errors(credentials):
        obj = make_client(credentials).v1.payment_intents.create(
            params=params, options={"idempotency_key": idempotency_key}
        )
    return _intent(obj.to_dict())


def payment_intent_retrieve(credentials: Credentials, *, payment_intent_id: str) -> PaymentIntent:
    with translate_errors(credentials):
        obj = make_client(credentials).v1.payment_intents.retrieve(payment_intent_id)
    return _intent(obj.to_dict())


def payment_intent_cancel(
    credentials: Credentials, *, payment_intent_id: str, idempotency_key: str
) -> PaymentIntent:
    """Cancel an intent nobody confirmed. GatewayError when it can no longer be canceled
    (it succeeded or is processing meanwhile): retrieve it then."""
    with translate_errors(credentials):
        obj = make_client(credentials).v1.payment_intents.cancel(
            payment_intent_id, options={"idempotency_key": idempotency_key}
        )
    return _intent(obj.to_dict())


@dataclass(frozen=True)
class Charge:
    id: str
    amount: int
    currency: str
    status: str
    customer: str
    paid: bool
    refunded: bool
    amount_refunded: int
    payment_intent: str


def charge_retrieve(credentials: Credentials, *, charge_id: str) -> Charge:
    with translate_errors(credentials):
        obj = make_client(credentials).v1.charges.retrieve(charge_id).to_dict()
    return Charge(
        id=obj["id"],
        amount=int(obj.get("amount") or 0),
        currency=obj.get("currency") or "",
        status=obj.get("status") or "",
        customer=obj.get("customer") or "",
        paid=bool(obj.get("paid")),
        refunded=bool(obj.get("refunded")),
        amount_refunded=int(obj.get("amount_refunded") or 0),
        payment_intent=obj.get("payment_intent") or "",
    )


@dataclass(frozen=True)
class Refund:
    id: str
    amount: int
    currency: str
    status: str
    charge: str
    payment_intent: str


def refund_create(
    credentials: Credentials,
    *,
    idempotency_key: str,
    charge: str = "",
    payment_intent: str = "",
    amount: int | None = None,
    reason: str = "",
    metadata: dict | None = None,
) -> Refund:
    """Refund a charge or a PaymentIntent, in full (no amount) or in part."""
    params: dict = {"metadata": metadata or {}}
    if charge:
        params["charge"] = charge
    if payment_intent:
        params["payment_intent"] = payment_intent
    if amount is not None:
        params["amount"] = amount
    if reason:
        params["reason"] = reason
    with translate_errors(credentials):
        obj = (
            make_client(credentials)
            .v1.refunds.create(params=params, options={"idempotency_key": idempotency_key})
            .to_dict()
        )
    return Refund(
        id=obj["id"],
        amount=int(obj.get("amount") or 0),
        currency=obj.get("currency") or "",
        status=obj.get("status") or "",
        charge=obj.get("charge") or "",
        payment_intent=obj.get("payment_intent") or "",
    )


@dataclass(frozen=True)
class ListedPaymentIntent:
    """A PaymentIntent of a listing, with what reconciliation compares: its metadata (our
    `portal_payment` row) and how much of its latest charge is refunded."""

    intent: PaymentIntent
    metadata: dict[str, str]
    amount_refunded: int


def payment_intents_recent(
    credentials: Credentials, *, created_gte: int, limit: int = 1000
) -> list[ListedPaymentIntent]:
    """The account's PaymentIntents created at or after `created_gte` (a Unix time), newest
    first, at most `limit`; each with its latest charge expanded (one call per 100)."""
    client = make_client(credentials)
    found: list[ListedPaymentIntent] = []
    params: dict = {
        "limit": 100,
        "created": {"gte": created_gte},
        "expand": ["data.latest_charge"],
    }
    with translate_errors(credentials):
        while len(found) < limit:
            page = client.v1.payment_intents.list(params=params)
            for item in page.data:
                obj = item.to_dict()
                charge = obj.get("latest_charge")
                charge = charge if isinstance(charge, dict) else {}
                refunded = int(charge.get("amount_refunded") or 0)
                metadata = {str(k): str(v) for k, v in (obj.get("metadata") or {}).items()}
                found.append(ListedPaymentIntent(_intent(obj), metadata, refunded))
            if not page.has_more or not page.data:
                break
            params["starting_after"] = page.data[-1].id
    return found[:limit]
