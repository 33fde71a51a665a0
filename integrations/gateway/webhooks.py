"""Webhook endpoints in Stripe, signature verification, and the Events API."""

from __future__ import annotations

import json
from dataclasses import dataclass

import stripe

from integrations.gateway.client import Credentials, make_client
from integrations.gateway.errors import translate_errors

TOLERANCE_SECONDS = 300
MAX_ENDPOINTS = 16  # Stripe's limit per account and mode


class SignatureError(Exception):
    """The delivery is not provably from Stripe: refuse it, store nothing."""


def event_verify(*, payload: bytes, header: str, secrets: list[str]) -> dict:
    """The event, if `header` carries a valid `v1` signature of `payload` by one of `secrets`
    within the tolerance; SignatureError otherwise (fails closed: no secret, no header, a
    malformed or v0-only header, an old timestamp)."""
    secrets = [s for s in secrets if s]
    if not secrets:
        raise SignatureError("no signing secret is configured for this endpoint")
    if not header:
        raise SignatureError("missing Stripe-Signature header")
    text = payload.decode("utf-8", errors="strict")
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(text, header, secret, TOLERANCE_SECONDS)
        except stripe.SignatureVerificationError as exc:
            reason = str(exc.user_message or exc)
            continue
        break
    else:
        raise SignatureError(reason)
    try:
        event = json.loads(text)
    except ValueError:
        raise SignatureError("the body is not JSON") from None
    if not isinstance(event, dict) or event.get("object") != "event" or not event.get("id"):
        raise SignatureError("the body is not a Stripe event")
    return event


@dataclass(frozen=True)
class RegisteredEndpoint:
    id: str
    secret: str
    url: str


def endpoint_create(
    credentials: Credentials,
    *,
    url: str,
    enabled_events: list[str],
    description: str,
    idempotency_key: str,
) -> RegisteredEndpoint:
    with translate_errors(credentials):
        obj = make_client(credentials).v1.webhook_endpoints.create(
            params={"url": url, "enabled_events": enabled_events, "description": description},
            options={"idempotency_key": idempotency_key},
        )
    data = obj.to_dict()
    return RegisteredEndpoint(id=data["id"], secret=data.get("secret") or "", url=data["url"])


def endpoint_count(credentials: Credentials) -> int:
    """How many of Stripe's 16 webhook endpoints the account uses."""
    with translate_errors(credentials):
        listing = make_client(credentials).v1.webhook_endpoints.list(params={"limit": 100})
    return len(listing.data)


def endpoint_delete(credentials: Credentials, *, endpoint_id: str) -> None:
    with translate_errors(credentials):
        make_client(credentials).v1.webhook_endpoints.delete(endpoint_id)


def events_since(credentials: Credentials, *, created_gte: int, limit: int = 500) -> list[dict]:
    """The account's events created at or after `created_gte`, oldest first (at most `limit`)."""
    client = make_client(credentials)
    events: list[dict] = []
    params: dict = {"limit": 100, "created": {"gte": created_gte}}
    with translate_errors(credentials):
        while len(events) < limit:
            page = client.v1.events.list(params=params)
            events.extend(item.to_dict() for item in page.data)
            if not page.has_more or not page.data:
                break
            params["starting_after"] = page.data[-1].id
    return list(reversed(events[:limit]))
