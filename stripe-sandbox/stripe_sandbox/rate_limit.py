"""Stripe's request rate limit: at most ``rates[mode]`` API calls per account in any one second.

Stripe allows 100 requests per second per account in live mode and 25 in test mode, and answers
429 with an ``invalid_request_error`` whose code is ``rate_limit`` beyond that. The sandbox
counts the calls it accepted for each (account acted for, mode) in a sliding one-second window,
which is at least as strict as Stripe's own limiter. Refused calls do not count, and carry no
``Stripe-Should-Retry`` header: Stripe sets it (to true) only on the 429s of object lock
timeouts, which its client libraries retry; rate-limit 429s are left to the integration.

Off by default in the test suite's sandbox (``SandboxServer``), on by default in
the ``stripe-sandbox`` command (what ``dev.py`` and the benchmarks start). ``reset()`` restores
that default; ``SandboxControl.set_rate_limit`` changes it until the next reset.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

from aiohttp import web

from stripe_sandbox import context
from stripe_sandbox import request_keys as keys
from stripe_sandbox.errors import rate_limit_response

# Stripe's documented limits, requests per second per account.
STRIPE_RATES = {"test": 25, "live": 100}
WINDOW_SECONDS = 1.0


class RateLimiter:
    """Sliding one-second windows of accepted calls, per account and mode."""

    def __init__(self, *, enabled_by_default: bool = False) -> None:
        self.enabled_by_default = enabled_by_default
        self.reset()

    def reset(self) -> None:
        self.enabled = self.enabled_by_default
        self.rates = dict(STRIPE_RATES)
        self.refused = 0
        self._windows: dict[tuple[str, bool], deque[float]] = {}

    def configure(
        self, *, enabled: bool | None = None, test: int | None = None, live: int | None = None
    ) -> dict[str, Any]:
        """Turn the limit on or off and set the rates (ValueError below 1); returns them."""
        for mode, rate in (("test", test), ("live", live)):
            if rate is not None:
                if int(rate) < 1:
                    raise ValueError(f"{mode} must be at least 1 request per second")
                self.rates[mode] = int(rate)
        if enabled is not None:
            self.enabled = bool(enabled)
        return self.export()

    def allow(self, account: str, livemode: bool, now: float | None = None) -> bool:
        """Count a call for ``account``; False (not counted) when the window is full."""
        if not self.enabled:
            return True
        now = time.monotonic() if now is None else now
        window = self._windows.setdefault((account, livemode), deque())
        while window and window[0] <= now - WINDOW_SECONDS:
            window.popleft()
        if len(window) >= self.rates["live" if livemode else "test"]:
            self.refused += 1
            return False
        window.append(now)
        return True

    def export(self) -> dict[str, Any]:
        return {"enabled": self.enabled, **self.rates, "refused": self.refused}


def make_middleware(limiter: RateLimiter) -> Any:
    """The aiohttp middleware applying ``limiter`` to authenticated API calls."""

    @web.middleware
    async def rate_limit_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
        ctx = context.current()
        account = request.get(keys.ACCOUNT)
        if ctx is None or account is None or limiter.allow(account, ctx.livemode):
            return await handler(request)
        return rate_limit_response()

    return rate_limit_middleware
