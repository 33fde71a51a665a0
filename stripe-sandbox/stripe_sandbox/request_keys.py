"""Typed keys for what the middlewares note on an aiohttp request (aiohttp's RequestKey)."""

from __future__ import annotations

from aiohttp import web

REQUEST_ID = web.RequestKey("sandbox_request_id", str)
PARAMS = web.RequestKey("sandbox_params", dict)
ACCOUNT = web.RequestKey("sandbox_account", str)
MASKED_KEY = web.RequestKey("sandbox_masked_key", str)
REPLAYED = web.RequestKey("sandbox_replayed", bool)
FAULT = web.RequestKey("sandbox_fault", str)
LOST_RESPONSE = web.RequestKey("sandbox_lost_response", bool)
FAULT_DELAY = web.RequestKey("sandbox_fault_delay", float)

__all__ = [
    "ACCOUNT",
    "FAULT",
    "FAULT_DELAY",
    "LOST_RESPONSE",
    "MASKED_KEY",
    "PARAMS",
    "REPLAYED",
    "REQUEST_ID",
]
