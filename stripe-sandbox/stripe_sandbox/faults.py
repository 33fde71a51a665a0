"""Injected faults, for tests: make the next N matching API calls fail the way Stripe can fail.

Kinds:
- ``"429"``: answer a rate-limit error without executing the request;
- ``"500"``: answer an ``api_error`` without executing the request (before the idempotency
  layer: nothing is saved under the key, a retry with it executes);
- ``"500_after_execution"``: execute the request, then answer an ``api_error`` instead of its
  result (inside the idempotency layer: the 500 is saved and replayed for the key, as Stripe
  does for a failure after execution began; the object the request made exists);
- ``"500_in_execution"``: answer an ``api_error`` from inside the idempotency layer without
  making anything (execution began and failed): the 500 is saved and replayed for the key;
- ``"lost_response"``: execute the request (its result is kept for idempotency replay), then drop
  the connection without answering, so the client sees a connection error;
- ``"delay"``: only wait ``delay`` seconds, then execute normally.
Any kind may carry ``delay`` (seconds to wait first). Rules match a method (or ``*``) and a path,
exactly or by prefix when the pattern ends with ``*``; they are consumed in the order added.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from typing import Any

from aiohttp import web

from stripe_sandbox import request_keys as keys
from stripe_sandbox.errors import error_response, rate_limit_response

KINDS = ("429", "500", "500_after_execution", "500_in_execution", "lost_response", "delay")


@dataclass
class Fault:
    """One rule: ``count`` more calls matching ``method`` and ``path`` get ``kind``."""

    method: str
    path: str
    kind: str
    count: int = 1
    delay: float = 0.0

    def matches(self, method: str, path: str) -> bool:
        if self.method not in ("*", method.upper()):
            return False
        if self.path.endswith("*"):
            return path.startswith(self.path[:-1])
        return path == self.path


class FaultQueue:
    """The pending fault rules, in the order they were added."""

    def __init__(self) -> None:
        self.rules: list[Fault] = []

    def reset(self) -> None:
        self.rules.clear()

    def add(
        self, *, method: str, path: str, kind: str, count: int = 1, delay: float = 0.0
    ) -> Fault:
        """Add a rule; raises ValueError on an unknown kind or a count below 1."""
        kind = str(kind)
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}")
        if int(count) < 1:
            raise ValueError("count must be at least 1")
        fault = Fault(method.upper(), path, kind, int(count), float(delay or 0))
        self.rules.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        """Consume one use of the first rule matching the call, if any."""
        for fault in self.rules:
            if fault.matches(method, path):
                fault.count -= 1
                if fault.count <= 0:
                    self.rules.remove(fault)
                return fault
        return None

    def export(self) -> list[dict[str, Any]]:
        return [asdict(f) for f in self.rules]


def make_middleware(queue: FaultQueue) -> Any:
    """The aiohttp middleware applying ``queue`` to API calls (after authentication)."""

    @web.middleware
    async def fault_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
        fault = queue.take(request.method, request.path)
        if fault is None:
            return await handler(request)
        request[keys.FAULT] = fault.kind
        if fault.kind in ("delay", "lost_response"):
            # Slow execution: slept by slow_execution_middleware, inside idempotency handling,
            # so that a concurrent request with the same key sees this one in flight.
            request[keys.FAULT_DELAY] = fault.delay
        elif fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.kind == "429":
            return rate_limit_response()
        if fault.kind == "500":
            return _api_error()
        response = await handler(request)
        if fault.kind == "lost_response":
            # The work is done (and kept for idempotency by the inner middleware); now drop the
            # connection so the client never reads the answer. aiohttp treats the failed write
            # as a premature client disconnection and logs nothing.
            request[keys.LOST_RESPONSE] = True
            if request.transport is not None:
                request.transport.abort()
        return response

    return fault_middleware


def _api_error() -> web.Response:
    return error_response(
        500,
        "api_error",
        "Something went wrong on Stripe's end. (Injected by the Stripe sandbox.)",
    )


@web.middleware
async def slow_execution_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    """Inside the idempotency layer: sleep the delay of a ``delay``/``lost_response`` fault
    before executing the request, answer a ``500_in_execution`` one with a 500 instead of
    executing it, and turn the result of a ``500_after_execution`` one into a 500 (the
    idempotency layer saves either)."""
    delay = request.get(keys.FAULT_DELAY)
    if delay:
        await asyncio.sleep(delay)
    if request.get(keys.FAULT) == "500_in_execution":
        return _api_error()
    response = await handler(request)
    if request.get(keys.FAULT) == "500_after_execution":
        return _api_error()
    return response
