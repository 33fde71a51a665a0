"""Idempotency-Key replay, like Stripe's.

A POST carrying ``Idempotency-Key`` is executed once per (account, key): a later request with the
same key and the same method, path and parameters gets the first response again (same status and
body) with ``Idempotent-Replayed: true``; different parameters get a 400 ``idempotency_error``; a
request arriving while the first is still executing gets a 409 ``idempotency_key_in_use``.

As at Stripe, a result is saved only once execution began: a 400 (the parameters failed
validation) and a 429 (refused before execution) are not kept, so the same key may be sent
again, corrected. Everything else is kept and replayed, a 500 raised after execution began
included (the ``500_after_execution`` fault): the client cannot learn from a retry with the same
key whether the object was made, it has to look. Keys longer than 255 characters get a 400.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from stripe_sandbox import context
from stripe_sandbox import request_keys as keys
from stripe_sandbox.errors import error_response
from stripe_sandbox.params import read_params

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
# Answers that mean the endpoint never began executing: not saved under the key.
_NOT_SAVED = (400, 429)


@dataclass
class Entry:
    """What a key was first used for and, once finished, the response it got."""

    fingerprint: str
    status: int | None = None
    body: bytes = b""
    content_type: str = "application/json"

    @property
    def in_flight(self) -> bool:
        return self.status is None


class IdempotencyStore:
    """Entries by (account id, idempotency key)."""

    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], Entry] = {}

    def reset(self) -> None:
        self.entries.clear()


def fingerprint(method: str, path: str, params: dict[str, Any]) -> str:
    """A canonical form of the request: what must match for a replay."""
    return json.dumps([method, path, params], sort_keys=True, default=str)


def make_middleware(store: IdempotencyStore) -> Any:
    """The aiohttp middleware applying ``store`` to authenticated POSTs."""

    @web.middleware
    async def idempotency_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
        key = request.headers.get(HEADER)
        ctx = context.current()
        if request.method != "POST" or not key or ctx is None:
            return await handler(request)
        if len(key) > MAX_KEY_LENGTH:
            return error_response(
                400,
                "invalid_request_error",
                f"Invalid idempotency key: it must be at most {MAX_KEY_LENGTH} characters long "
                f"(this one has {len(key)}).",
            )
        scope = (ctx.account_id, key)
        fp = fingerprint(request.method, request.path, await read_params(request))
        entry = store.entries.get(scope)
        if entry is not None:
            if entry.fingerprint != fp:
                return error_response(
                    400,
                    "idempotency_error",
                    "Keys for idempotent requests can only be used with the same parameters "
                    "they were first used with. Try using a key other than "
                    f"'{key}' if you meant to execute a different request.",
                )
            if entry.in_flight:
                return error_response(
                    409,
                    "idempotency_error",
                    "There is currently another in-progress request using this Idempotent Key "
                    "(that probably means you submitted twice, and that is fine). "
                    "Please try again later.",
                    code="idempotency_key_in_use",
                )
            request[keys.REPLAYED] = True
            replay = web.Response(
                body=entry.body, status=entry.status, content_type=entry.content_type
            )
            replay.headers["Idempotent-Replayed"] = "true"
            return replay

        entry = Entry(fingerprint=fp)
        store.entries[scope] = entry
        try:
            response = await handler(request)
        except BaseException:
            store.entries.pop(scope, None)
            raise
        if response.status in _NOT_SAVED or not isinstance(response, web.Response):
            store.entries.pop(scope, None)
            return response
        entry.status = response.status
        entry.body = bytes(response.body or b"")  # type: ignore[arg-type]
        entry.content_type = response.content_type
        return response

    return idempotency_middleware
