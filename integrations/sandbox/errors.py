"""Stripe-shaped JSON responses and error bodies.

Every error the sandbox answers has Stripe's shape ``{"error": {"type", "message", ...}}`` so the
real stripe-python client raises the same exception classes it raises against Stripe.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web
from localstripe.errors import UserError

logger = logging.getLogger(__name__)

# 402 decline bodies carry type card_error; localstripe always says invalid_request_error.
_TYPE_BY_STATUS = {402: "card_error"}


def json_response(body: Any, status: int = 200) -> web.Response:
    """Serialise ``body`` like Stripe does (pretty-printed JSON)."""
    text = json.dumps(body, indent=2, sort_keys=True) + "\n"
    return web.Response(text=text, status=status, content_type="application/json")


def error_response(status: int, type_: str, message: str, **extra: Any) -> web.Response:
    """A Stripe error response; ``extra`` keys (code, param, decline_code...) go into ``error``."""
    error: dict[str, Any] = {"type": type_, "message": message}
    error.update({k: v for k, v in extra.items() if v is not None})
    return json_response({"error": error}, status=status)


def from_user_error(exc: UserError) -> web.Response:
    """Convert localstripe's ``UserError`` to a Stripe-shaped response."""
    error = dict(exc.body.get("error", {}))
    error["type"] = _TYPE_BY_STATUS.get(exc.code, error["type"])
    if exc.code == 404:
        error.setdefault("code", "resource_missing")
    error.setdefault("message", "Bad request")
    return json_response({"error": error}, status=exc.code)


def card_error(message: str, **extra: Any) -> UserError:
    """A 402 ``card_error`` as a localstripe ``UserError`` (raised from resource code)."""
    return UserError(402, message, {k: v for k, v in extra.items() if v is not None})


@web.middleware
async def error_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    """Turn localstripe errors, and unexpected exceptions, into Stripe error bodies."""
    try:
        return await handler(request)
    except UserError as exc:
        return from_user_error(exc)
    except web.HTTPException:
        raise
    except Exception:  # noqa: BLE001 - a sandbox bug must still answer like Stripe's 500
        logger.exception("stripe sandbox: unhandled error on %s %s", request.method, request.path)
        return error_response(500, "api_error", "An unknown error occurred in the sandbox.")


def rate_limit_response() -> web.Response:
    """Stripe's answer to a request over the account's rate limit (429)."""
    return error_response(
        429,
        "invalid_request_error",
        "Request rate limit exceeded. Learn more about rate limits here "
        "https://stripe.com/docs/rate-limits.",
        code="rate_limit",
        doc_url="https://stripe.com/docs/error-codes/rate-limit",
    )
