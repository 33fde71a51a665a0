"""The control API under ``/_sandbox/`` (no Stripe authentication), used by tests and tools.

- ``POST /_sandbox/reset``: wipe all data, keys, faults, logs and webhook endpoints.
- ``POST /_sandbox/keys`` ``{"secret_key", "publishable_key"?, "account"?, "permissions"?}``:
  register keys; answers the account (``GET /v1/account`` shape).
- ``POST /_sandbox/keys/revoke`` ``{"secret_key"}``: later calls with it get 401.
- ``POST /_sandbox/faults`` ``{"method", "path", "kind", "count"?, "delay"?}``; ``GET`` lists
  pending rules; ``DELETE`` clears them (see ``stripe_sandbox.faults``).
- ``POST /_sandbox/rate_limit`` ``{"enabled"?, "test"?, "live"?}``: Stripe's per-account rate
  limit (requests per second by mode, see ``stripe_sandbox.rate_limit``); ``GET`` answers
  it with the count of refused calls.
- ``GET /_sandbox/requests?path=...&method=...``: the request log.
- ``POST /_sandbox/requests/keep_responses`` ``{"enabled"}``: keep the decoded JSON answer in
  each later log entry (``response``); off again after a reset.
- ``GET /_sandbox/deliveries?wait=<seconds>``: the webhook delivery log, optionally after waiting
  (up to ``wait`` seconds) for deliveries in flight.
- ``POST /_sandbox/webhook_retries`` ``{"delays": [seconds, ...]}``: retry delays of failed
  deliveries (``[]``: no retries); answers the delays in force.
- ``POST /_sandbox/events/{id}/resend`` ``{"endpoint"?}``: deliver the event again.
- ``POST /_sandbox/platforms`` ``{"client_id", "secret_key", "account"?, "redirect_uri"?,
  "next_connected_account"?}``: register a Connect platform; ``GET`` lists platforms with their
  connections; ``POST /_sandbox/platforms/{client_id}/next_connected_account`` ``{"account"?}``:
  the account the next OAuth grant connects (a fresh one without ``account``).
- ``POST /_sandbox/balance`` ``{"account" | "secret_key", "available", "pending"?}``.
- ``POST /_sandbox/external_accounts`` ``{"account" | "secret_key", "bank_name"?, "last4"?,
  "status"?, "currency"?, "country"?, "routing_number"?, "account_holder_name"?}``.
Errors answer 400 ``{"error": "<message>"}`` (404 for an unknown event).
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from stripe_sandbox import webhooks
from stripe_sandbox.accounts import Account
from stripe_sandbox.dashboard import validate_amounts
from stripe_sandbox.state import STATE


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


async def set_rate_limit(request: web.Request) -> web.Response:
    data = await _json(request)
    try:
        return _ok(
            STATE.rate_limit.configure(
                enabled=data.get("enabled"), test=data.get("test"), live=data.get("live")
            )
        )
    except (TypeError, ValueError) as exc:
        return _bad(str(exc))


async def rate_limit(request: web.Request) -> web.Response:
    return _ok(STATE.rate_limit.export())


async def requests_log(request: web.Request) -> web.Response:
    entries = STATE.requests.select(request.query.get("path"), request.query.get("method"))
    return _ok(entries)


async def keep_responses(request: web.Request) -> web.Response:
    data = await _json(request)
    STATE.requests.keep_responses = bool(data.get("enabled", True))
    return _ok({"enabled": STATE.requests.keep_responses})


async def deliveries(request: web.Request) -> web.Response:
    try:
        wait = float(request.query.get("wait") or 0)
    except ValueError:
        return _bad("wait must be a number of seconds")
    if wait > 0:
        await STATE.deliveries.wait(timeout=wait)
    return _ok(STATE.deliveries.log)


async def webhook_retries(request: web.Request) -> web.Response:
    data = await _json(request)
    delays = data.get("delays")
    if not isinstance(delays, list) or not all(
        isinstance(d, int | float) and 0 <= d <= 60 for d in delays
    ):
        return _bad("delays must be a list of seconds (0..60)")
    STATE.deliveries.retry_delays = [float(d) for d in delays]
    return _ok({"delays": STATE.deliveries.retry_delays})


async def resend_event(request: web.Request) -> web.Response:
    data = await _json(request)
    result = webhooks.resend(request.match_info["id"], data.get("endpoint"))
    if result is None:
        return web.json_response({"error": "no such event"}, status=404)
    return _ok(result)


async def register_platform(request: web.Request) -> web.Response:
    data = await _json(request)
    try:
        platform = STATE.connect.register_platform(
            STATE.keys,
            data.get("client_id") or "",
            data.get("secret_key") or "",
            account=data.get("account"),
            redirect_uri=data.get("redirect_uri"),
        )
        if data.get("next_connected_account") is not None:
            STATE.connect.queue_account(
                STATE.keys, platform.client_id, data["next_connected_account"]
            )
    except ValueError as exc:
        return _bad(str(exc))
    return _ok(
        {
            "client_id": platform.client_id,
            "account": STATE.keys.accounts[platform.account_id].export(),
        }
    )


async def list_platforms(request: web.Request) -> web.Response:
    return _ok(STATE.connect.export())


async def next_connected_account(request: web.Request) -> web.Response:
    data = await _json(request)
    client_id = request.match_info["client_id"]
    if client_id not in STATE.connect.platforms:
        return _bad(f"unknown client_id {client_id}")
    acct = STATE.connect.queue_account(STATE.keys, client_id, data.get("account"))
    return _ok(acct.export())


def _target_account(data: dict[str, Any]) -> Account | None:
    """The account named by ``account`` (id) or ``secret_key`` in a control call."""
    if data.get("account"):
        return STATE.keys.accounts.get(data["account"])
    api_key = STATE.keys.lookup(data.get("secret_key") or "")
    return STATE.keys.accounts.get(api_key.account_id) if api_key else None


async def set_balance(request: web.Request) -> web.Response:
    data = await _json(request)
    acct = _target_account(data)
    if acct is None:
        return _bad("unknown account or key")
    try:
        available = validate_amounts(data.get("available") or [])
        pending = validate_amounts(data.get("pending") or [])
    except ValueError as exc:
        return _bad(str(exc))
    acct.balance_available = available
    acct.balance_pending = pending
    return _ok({"account": acct.id, "available": available, "pending": pending})


async def add_external_account(request: web.Request) -> web.Response:
    data = await _json(request)
    acct = _target_account(data)
    if acct is None:
        return _bad("unknown account or key")
    fields = {
        k: data[k]
        for k in (
            "bank_name",
            "last4",
            "status",
            "currency",
            "country",
            "routing_number",
            "account_holder_name",
            "account_holder_type",
        )
        if data.get(k) is not None
    }
    try:
        return _ok(acct.add_external_account(**fields))
    except (TypeError, ValueError) as exc:
        return _bad(str(exc))


def add_routes(app: web.Application) -> None:
    """Mount the control API on ``app``."""
    app.router.add_post("/_sandbox/reset", reset)
    app.router.add_post("/_sandbox/keys", register_key)
    app.router.add_post("/_sandbox/keys/revoke", revoke_key)
    app.router.add_post("/_sandbox/faults", add_fault)
    app.router.add_get("/_sandbox/faults", list_faults)
    app.router.add_delete("/_sandbox/faults", clear_faults)
    app.router.add_post("/_sandbox/rate_limit", set_rate_limit)
    app.router.add_get("/_sandbox/rate_limit", rate_limit)
    app.router.add_get("/_sandbox/requests", requests_log)
    app.router.add_post("/_sandbox/requests/keep_responses", keep_responses)
    app.router.add_get("/_sandbox/deliveries", deliveries)
    app.router.add_post("/_sandbox/webhook_retries", webhook_retries)
    app.router.add_post("/_sandbox/events/{id}/resend", resend_event)
    app.router.add_post("/_sandbox/platforms", register_platform)
    app.router.add_get("/_sandbox/platforms", list_platforms)
    app.router.add_post(
        "/_sandbox/platforms/{client_id}/next_connected_account", next_connected_account
    )
    app.router.add_post("/_sandbox/balance", set_balance)
    app.router.add_post("/_sandbox/external_accounts", add_external_account)
