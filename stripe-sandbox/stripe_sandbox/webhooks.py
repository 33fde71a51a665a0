"""Webhook endpoints (``/v1/webhook_endpoints``) and signed, prompt delivery of events.

Replaces localstripe's delivery (a global list of endpoints set through ``/_config``, and a 1 s
sleep before each delivery). Endpoints belong to an account; each event is posted to the
account's enabled endpoints whose ``enabled_events`` contain its type or ``*``, signed exactly
like Stripe: ``Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the secret>``.
An endpoint created with ``connect=true`` is a Connect endpoint (docs.stripe.com/connect/webhooks):
it gets none of its own account's events, but those of every account connected to that account
as a platform (objects made with the connected account's access token, or with the platform's
key and ``Stripe-Account``), with the event's top-level ``account`` set to the connected
account. As Stripe's support page "Connect account webhook configurations" describes, a live
Connect endpoint gets the live and test events of accounts connected in live mode, a test one
the test events of accounts connected in test mode.
First attempts to one endpoint keep the order the events were created in. A delivery answered
non-2xx (or failing to connect) is retried after each of ``Deliveries.retry_delays`` seconds
(default 0.2, 0.5, 1; settable through the control API); every attempt is logged. An account
has at most 16 endpoints, like on Stripe.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from typing import Any

import aiohttp
from aiohttp import web
from localstripe.errors import UserError
from localstripe.resources import StripeObject

from stripe_sandbox import context
from stripe_sandbox.context import random_token
from stripe_sandbox.errors import json_response
from stripe_sandbox.params import read_params
from stripe_sandbox.store import STORE

DELIVERY_TIMEOUT_SECONDS = 10.0
MAX_LOGGED_DELIVERIES = 10_000
MAX_ENDPOINTS = 16
DEFAULT_RETRY_DELAYS = (0.2, 0.5, 1.0)


class WebhookEndpoint(StripeObject):
    """Stripe's ``webhook_endpoint``; ``secret`` is only shown in the creation response."""

    object = "webhook_endpoint"
    _id_prefix = "we_"

    def __init__(
        self,
        url: Any = None,
        enabled_events: Any = None,
        description: Any = None,
        metadata: Any = None,
        api_version: Any = None,
        connect: Any = None,
        **kwargs: Any,
    ) -> None:
        if kwargs:
            raise UserError(400, "Received unknown parameter: " + ", ".join(kwargs))
        _validate(url=url, enabled_events=enabled_events, metadata=metadata)
        is_connect = _boolean(connect, "connect")
        super().__init__()
        self.url = url
        self.enabled_events = list(enabled_events)
        self.description = description
        self.metadata = metadata or {}
        self.api_version = api_version
        self.application = None
        self.status = "enabled"
        self._secret = "whsec_" + random_token(32)
        # Not part of Stripe's object (nor updatable): whose events the endpoint receives.
        self._connect = is_connect

    def _update(self, disabled: Any = None, **data: Any) -> None:
        _validate(**data)
        if disabled is not None:
            self.status = "disabled" if str(disabled).lower() == "true" else "enabled"
        super()._update(**data)

    def _wants(self, event_type: str) -> bool:
        return self.status == "enabled" and (
            "*" in self.enabled_events or event_type in self.enabled_events
        )


def is_connect_endpoint(endpoint: Any) -> bool:
    """Whether ``endpoint`` receives connected accounts' events (data saved before Connect
    endpoints existed has no flag: account endpoints)."""
    return bool(getattr(endpoint, "_connect", False))


def _boolean(value: Any, param: str) -> bool:
    """A form-encoded boolean parameter (absent: false), refused like Stripe otherwise."""
    if value is None or value is False or value == "false":
        return False
    if value is True or value == "true":
        return True
    raise UserError(400, f"Invalid boolean: {value}", {"param": param})


def _validate(**data: Any) -> None:
    """Stripe's checks on url/enabled_events/metadata, when present (url is required on create)."""
    if "url" in data:
        url = data["url"]
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise UserError(400, "Invalid URL: url must be an http(s) URL.", {"param": "url"})
    if "enabled_events" in data:
        events = data["enabled_events"]
        if (
            not isinstance(events, list)
            or not events
            or not all(isinstance(e, str) for e in events)
        ):
            raise UserError(
                400, "enabled_events must be a non-empty list.", {"param": "enabled_events"}
            )
    if data.get("metadata") is not None and not isinstance(data["metadata"], dict):
        raise UserError(400, "Invalid metadata.", {"param": "metadata"})


async def create_endpoint(request: web.Request) -> web.Response:
    """``POST /v1/webhook_endpoints``: like localstripe's create, plus the one-time secret."""
    data = {k: v for k, v in (await read_params(request)).items() if k != "expand"}
    if sum(1 for key in STORE.keys() if key.startswith("webhook_endpoint:")) >= MAX_ENDPOINTS:
        ctx = context.current()
        mode = "live" if ctx and ctx.livemode else "test"
        raise UserError(
            400, f"You have reached the maximum of {MAX_ENDPOINTS} {mode} webhook endpoints."
        )
    endpoint = WebhookEndpoint(**data)
    body = endpoint._export()
    body["secret"] = endpoint._secret
    return json_response(body)


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    """The ``Stripe-Signature`` header value for ``payload``."""
    mac = hmac.new(secret.encode(), b"%d." % timestamp + payload, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


class Deliveries:
    """The delivery log and the delivery tasks in flight."""

    def __init__(self) -> None:
        self.log: list[dict[str, Any]] = []
        self.tasks: set[asyncio.Task[None]] = set()
        self.locks: dict[str, asyncio.Lock] = {}
        self.retry_delays: list[float] = list(DEFAULT_RETRY_DELAYS)

    def reset(self) -> None:
        """Forget the log; cancel deliveries still pending (they belong to wiped data); back to
        the default retry delays."""
        for task in list(self.tasks):
            task.cancel()
        self.tasks.clear()
        self.log.clear()
        self.locks.clear()
        self.retry_delays = list(DEFAULT_RETRY_DELAYS)

    async def wait(self, timeout: float = 10.0) -> None:
        """Wait until no delivery is in flight (used by tests and shutdown)."""
        if self.tasks:
            await asyncio.wait(list(self.tasks), timeout=timeout)


DELIVERIES = Deliveries()


def on_event(event: Any) -> None:
    """Replacement for localstripe's ``schedule_webhook``: deliver ``event`` to the endpoints.

    Called synchronously by resource code while a request is being served, in that request's
    account context; endpoints are chosen now, posting happens in background tasks: the
    account's own endpoints, then the Connect endpoints of the platforms it is connected to.
    """
    ctx = context.current()
    own = [
        obj
        for key, obj in STORE.items()
        if key.startswith("webhook_endpoint:")
        and not is_connect_endpoint(obj)
        and obj._wants(event.type)
    ]
    platforms = connect_endpoints(ctx.account_id, event) if ctx else []
    event.pending_webhooks = len(own) + len(platforms)
    schedule(event, own)
    if ctx:
        schedule(event, platforms, account=ctx.account_id)


def connect_endpoints(account_id: str, event: Any, endpoint_id: str | None = None) -> list[Any]:
    """The Connect endpoints of the platforms ``account_id`` is connected to that get ``event``
    (or only the one with ``endpoint_id``): enabled and wanting its type, of a mode the account
    is connected in, and live unless the event is a test one (Stripe sends the test events of
    an account connected in live mode to the live Connect endpoints too)."""
    from stripe_sandbox.state import STATE  # noqa: PLC0415 - state imports this module

    found = []
    for platform_account_id, modes in STATE.connect.platforms_of(account_id).items():
        for key, obj in list(STORE.for_account(platform_account_id).items()):
            if not key.startswith("webhook_endpoint:") or not is_connect_endpoint(obj):
                continue
            wanted = obj.id == endpoint_id if endpoint_id else obj._wants(event.type)
            if wanted and obj.livemode in modes and (obj.livemode or not event.livemode):
                found.append(obj)
    return found


def schedule(
    event: Any, endpoints: list[Any], resend: bool = False, account: str | None = None
) -> int:
    """Post ``event`` to ``endpoints`` in background tasks (in the current account context);
    returns how many deliveries were scheduled. ``account``: they are Connect endpoints, and
    the event is sent with ``account`` set to the connected account it happened on."""
    if not endpoints:
        return 0
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # no loop: resource code run outside the server (unit tests)
        return 0
    body = event._export()
    if account is not None:
        body["account"] = account
    payload = json.dumps(body, indent=2, sort_keys=True).encode()
    ctx = context.current()
    for endpoint in endpoints:
        lock = DELIVERIES.locks.setdefault(endpoint.id, asyncio.Lock())
        task = loop.create_task(
            _deliver(
                event,
                endpoint.id,
                endpoint.url,
                endpoint._secret,
                payload,
                lock,
                ctx,
                resend,
                connect=account is not None,
            )
        )
        DELIVERIES.tasks.add(task)
        task.add_done_callback(DELIVERIES.tasks.discard)
    return len(endpoints)


async def _deliver(
    event: Any,
    endpoint_id: str,
    url: str,
    secret: str,
    payload: bytes,
    lock: asyncio.Lock,
    ctx: context.RequestContext | None,
    resend: bool = False,
    connect: bool = False,
) -> None:
    """POST one event to one endpoint, retrying failures, and record every attempt."""
    delays = list(DELIVERIES.retry_delays)
    for attempt in range(1, len(delays) + 2):
        async with lock:
            record = await _attempt(event, endpoint_id, url, secret, payload, ctx)
        record.update(attempt=attempt, resend=resend, connect=connect)
        ok = record["status"] is not None and 200 <= record["status"] < 300
        if ok and not resend:
            event.pending_webhooks = max(0, event.pending_webhooks - 1)
        DELIVERIES.log.append(record)
        if len(DELIVERIES.log) > MAX_LOGGED_DELIVERIES:  # a long-running dev server
            del DELIVERIES.log[:-MAX_LOGGED_DELIVERIES]
        if ok or attempt > len(delays):
            return
        await asyncio.sleep(delays[attempt - 1])


async def _attempt(
    event: Any,
    endpoint_id: str,
    url: str,
    secret: str,
    payload: bytes,
    ctx: context.RequestContext | None,
) -> dict[str, Any]:
    """One POST; the delivery log record (status None and error set if it could not connect)."""
    record: dict[str, Any] = {
        "event": event.id,
        "type": event.type,
        "endpoint": endpoint_id,
        "url": url,
        "account": ctx.account_id if ctx else None,
        "status": None,
        "error": None,
        "created": time.time(),
    }
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        "Stripe-Signature": sign(payload, secret, int(time.time())),
    }
    timeout = aiohttp.ClientTimeout(total=DELIVERY_TIMEOUT_SECONDS)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session:
            async with session.post(url, data=payload, headers=headers) as response:
                record["status"] = response.status
                await response.read()
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        record["error"] = f"{type(exc).__name__}: {exc}"
    return record


def resend(event_id: str, endpoint_id: str | None = None) -> dict[str, Any] | None:
    """Deliver event ``event_id`` again to its account's enabled endpoints wanting it and the
    Connect endpoints of its account's platforms (or only to ``endpoint_id``); None if no
    account has that event. Runs in the event's account."""
    for account_id, partition in list(STORE.partitions.items()):
        event = partition.get("event:" + event_id)
        if event is None:
            continue
        own = [
            obj
            for key, obj in partition.items()
            if key.startswith("webhook_endpoint:")
            and not is_connect_endpoint(obj)
            and (obj.id == endpoint_id if endpoint_id else obj._wants(event.type))
        ]
        platforms = connect_endpoints(account_id, event, endpoint_id)
        with context.acting_as(context.RequestContext(account_id=account_id)):
            count = schedule(event, own, resend=True)
            count += schedule(event, platforms, resend=True, account=account_id)
        scheduled = [e.id for e in (own + platforms)[:count]]
        return {"event": event_id, "account": account_id, "endpoints": scheduled}
    return None
