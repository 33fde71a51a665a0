"""Build and sign Stripe events the way Stripe does, for webhook tests."""

from __future__ import annotations

import json
import time

from stripe_sandbox.webhooks import sign

EVENT = {
    "object": "event",
    "api_version": "2026-10-28.endive",
    "type": "charge.succeeded",
    "livemode": False,
    "pending_webhooks": 1,
    "request": {"id": "req_123", "idempotency_key": "run:abc:step:charge"},
    "data": {"object": {"id": "ch_123", "object": "charge", "amount": 4999, "currency": "usd"}},
}


def event_body(event_id: str = "evt_1", **fields) -> bytes:
    event = {**EVENT, "id": event_id, "created": int(time.time()), **fields}
    return json.dumps(event).encode()


def signature(body: bytes, secret: str, *, at: int | None = None) -> str:
    return sign(body, secret, int(time.time()) if at is None else at)
