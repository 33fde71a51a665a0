"""The control API under ``/_sandbox/`` (no Stripe authentication), used by tests and tools.

- ``POST /_sandbox/reset``: wipe all data, keys, faults, logs and webhook endpoints.
- ``POST /_sandbox/keys`` ``{"secret_key", "publishable_key"?, "account"?, "permissions"?}``:
  register keys; answers the account (``GET /v1/account`` shape).
- ``POST /_sandbox/keys/revoke`` ``{"secret_key"}``: later calls with it get 401.
- ``POST /_sandbox/faults`` ``{"method", "path", "kind", "count"?, "delay"?}``; ``GET`` lists
  pending rules; ``DELETE`` clears them (see ``integrations.sandbox.faults``).
- ``GET /_sandbox/requests?path=...&method=...``: the request log.
- ``GET /_sandbox/deliveries?wait=<seconds>``: the webhook delivery log, optionally after waiting
  (up to ``wait`` seconds) for deliveries in flight.
Errors answer 400 ``{"error": "<message>"}``.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from integrations.sandbox.state import STATE


def _ok(body: Any) -> web.Response:
    return web.json_response(body)


def _bad(message: str) -> web.Response:
    return web.json_response({"error": message}, status=400)


async def _json(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        data = await request.json()
    except json.JSONDecodeError as exc:
        raise web.HTTPBadRequest(text=f"invalid JSON: {exc}") from exc
    return data if isinstance(data, dict) else {}


async def reset(request: web.Request) -> web.Response:
    STATE.reset()
    return _ok({"reset": True})


async def register_key(request: web.Request) -> web.Response:
    data = await _json(request)
    try:
        account = STATE.keys.register(
            data.get("secret_key") or "",
            publishable_key=data.get("publishable_key"),
            account=data.get("account"),
            permissions=data.get("permissions"),
        )
    except ValueError as exc:
        return _bad(str(exc))
    return _ok(account.export())


async def revoke_key(request: web.Request) -> web.Response:
    data = await _json(request)
    if not STATE.keys.revoke(data.get("secret_key") or ""):
        return _bad("unknown key")
    return _ok({"revoked": True})


async def add_fault(request: web.Request) -> web.Response:
    data = await _json(request)
    try:
        STATE.faults.add(
            method=data.get("method") or "*",
            path=data.get("path") or "*",
            kind=str(data.get("kind")),
            count=int(data.get("count", 1)),
            delay=float(data.get("delay") or 0),
        )
    except (TypeError, ValueError) as exc:
        return _bad(str(exc))
    return _ok(STATE.faults.export())


async def list_faults(request: web.Request) -> web.Response:
    return _ok(STATE.faults.export())


async def clear_faults(request: web.Request) -> web.Response:
    STATE.faults.reset()
    return _ok([])


async def requests_log(request: web.Request) -> web.Response:
    entries = STATE.requests.select(request.query.get("path"), request.query.get("method"))
    return _ok(entries)


async def deliveries(request: web.Request) -> web.Response:
    try:
        wait = float(request.query.get("wait") or 0)
    except ValueError:
        return _bad("wait must be a number of seconds")
    if wait > 0:
        await STATE.deliveries.wait(timeout=wait)
    return _ok(STATE.deliveries.log)


def add_routes(app: web.Application) -> None:
    """Mount the control API on ``app``."""
    app.router.add_post("/_sandbox/reset", reset)
    app.router.add_post("/_sandbox/keys", register_key)
    app.router.add_post("/_sandbox/keys/revoke", revoke_key)
    app.router.add_post("/_sandbox/faults", add_fault)
    app.router.add_get("/_sandbox/faults", list_faults)
    app.router.add_delete("/_sandbox/faults", clear_faults)
    app.router.add_get("/_sandbox/requests", requests_log)
    app.router.add_get("/_sandbox/deliveries", deliveries)
