"""Webhook endpoints in Stripe, signature verification, and the Events API."""

from __future__ import annotations

import json
from dataclasses import dataclass

import stripe

from integrations.gateway.client import Credentials, make_client
from integrations.gateway.errors import translate_errors

TOLERANCE_SECONDS = 300
LATEST_TIMESTAMP = 253_402_300_799  # 9999-12-31T23:59:59Z, the last time Python can hold
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
    if not header.isascii():  # Stripe's header is ASCII; comparing other text raises TypeError
        raise SignatureError("the Stripe-Signature header is malformed")
    try:
        text = payload.decode("utf-8", errors="strict")
    except UnicodeDecodeError:
        raise SignatureError("the body is not UTF-8") from None
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
    except (ValueError, RecursionError):
        raise SignatureError("the body is not JSON") from None
    if not _is_event(event):
        raise SignatureError("the body is not a Stripe event")
    return event


def _is_event(event) -> bool:
    """Shaped as Stripe sends every event, so it can be stored as it is: an id and a type that
    fit their columns, a creation time, the mode, `data.object`, and no NUL character anywhere
    (PostgreSQL's jsonb refuses it)."""
    if not isinstance(event, dict) or event.get("object") != "event":
        return False
    id_, type_, created = event.get("id"), event.get("type"), event.get("created")
    data = event.get("data")
    return (
        isinstance(id_, str) and 0 < len(id_) <= 255
        and isinstance(type_, str) and 0 < len(type_) <= 100
        and isinstance(event.get("api_version", ""), str | None)
        and len(event.get("api_version") or "") <= 50
        and type(created) is int and 0 <= created <= LATEST_TIMESTAMP
        and isinstance(event.get("livemode"), bool)
        and isinstance(data, dict) and isinstance(data.get("object"), dict)
        and not _has_nul(event)
    )  # fmt: skip


def _has_nul(value) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str) and "\x00" in item:
            return True
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


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


def endpoint_list(credentials: Credentials) -> list[RegisteredEndpoint]:
    """The account's webhook endpoints (at most Stripe's 16; no secrets: Stripe shows a secret
    only when the endpoint is created)."""
    with translate_errors(credentials):
        listing = make_client(credentials).v1.webhook_endpoints.list(params={"limit": 100})
    return [RegisteredEndpoint(id=item.id, secret="", url=item.url) for item in listing.data]


def endpoint_update_url(credentials: Credentials, *, endpoint_id: str, url: str) -> None:
    """Point the endpoint at `url` (the same endpoint and secret, e.g. after SITE_URL changed)."""
    with translate_errors(credentials):
        make_client(credentials).v1.webhook_endpoints.update(endpoint_id, params={"url": url})


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
