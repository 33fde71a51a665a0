"""The log of every Stripe API call the sandbox received, for tests to inspect.

Entries are appended when a request arrives and completed when it is answered, so they are in
arrival order. Each is a JSON-ready dict: ``id`` (the Request-Id), ``method``, ``path``,
``idempotency_key``, ``params`` (parsed), ``status`` (None until answered), ``account`` (None if
authentication failed), ``key`` (masked), ``replayed``, ``fault`` (kind injected or None),
``lost_response`` (the answer was dropped) and ``created`` (unix time, float). While
``keep_responses`` is on (off by default and after ``reset()``; tests turn it on to check the
answers against Stripe's OpenAPI schema) entries also carry ``response``: the decoded JSON body
of the answer, or None when it had none or was not JSON.
"""

from __future__ import annotations

import json
import time
from typing import Any

from aiohttp import web

from stripe_sandbox import request_keys as keys
from stripe_sandbox.context import new_request_id
from stripe_sandbox.params import read_params


class RequestLog:
    """The entries, oldest first; only the last ``max_entries`` are kept."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self.entries: list[dict[str, Any]] = []
        self.max_entries = max_entries
        self.total = 0  # requests ever logged: lets the server see whether anything happened
        self.keep_responses = False

    def reset(self) -> None:
        self.entries.clear()
        self.keep_responses = False

    def add(self, entry: dict[str, Any]) -> None:
        self.entries.append(entry)
        self.total += 1
        if len(self.entries) > self.max_entries:
            del self.entries[: len(self.entries) - self.max_entries]

    def select(self, path: str | None = None, method: str | None = None) -> list[dict[str, Any]]:
        """Entries for ``path`` (exact, or prefix when it ends with ``*``) and ``method``."""
        out = []
        for entry in self.entries:
            if method and entry["method"] != method.upper():
                continue
            if path:
                if path.endswith("*"):
                    if not entry["path"].startswith(path[:-1]):
                        continue
                elif entry["path"] != path:
                    continue
            out.append(entry)
        return out


def make_middleware(log: RequestLog) -> Any:
    """Outermost middleware for ``/v1/`` calls: assigns the Request-Id and records the call."""

    @web.middleware
    async def request_log_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
        if not request.path.startswith("/v1/"):
            return await handler(request)
        request[keys.REQUEST_ID] = new_request_id()
        entry: dict[str, Any] = {
            "id": request[keys.REQUEST_ID],
            "method": request.method,
            "path": request.path,
            "idempotency_key": request.headers.get("Idempotency-Key"),
            "params": await read_params(request),
            "status": None,
            "account": None,
            "key": None,
            "replayed": False,
            "fault": None,
            "lost_response": False,
            "created": time.time(),
        }
        log.add(entry)
        response = await handler(request)
        entry.update(
            status=response.status,
            account=request.get(keys.ACCOUNT),
            key=request.get(keys.MASKED_KEY),
            replayed=bool(request.get(keys.REPLAYED)),
            fault=request.get(keys.FAULT),
            lost_response=bool(request.get(keys.LOST_RESPONSE)),
        )
        if log.keep_responses:
            entry["response"] = _json_body(response)
        response.headers["Request-Id"] = request[keys.REQUEST_ID]
        return response

    return request_log_middleware


def _json_body(response: web.StreamResponse) -> Any:
    """The decoded JSON body of ``response``, or None (streamed, empty or not JSON)."""
    if not isinstance(response, web.Response) or response.content_type != "application/json":
        return None
    try:
        return json.loads(bytes(response.body or b""))  # type: ignore[arg-type]
    except ValueError:
        return None
