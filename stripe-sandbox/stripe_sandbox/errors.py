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

from stripe_sandbox import params
from stripe_sandbox import request_keys as keys

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


def from_user_error(exc: UserError, request: web.Request | None = None) -> web.Response:
    """Convert localstripe's ``UserError`` to a Stripe-shaped response.

    localstripe refuses parameters with "Unexpected <names>" or a bare "Bad request"; like
    Stripe, the answer names the parameter (``param``), Stripe's ``code`` and a readable
    message, diagnosed from the request's parameters."""
    error = dict(exc.body.get("error", {}))
    error["type"] = _TYPE_BY_STATUS.get(exc.code, error["type"])
    if exc.code == 404:
        error.setdefault("code", "resource_missing")
    if exc.code == 400 and not error.get("code"):
        message = error.get("message") or ""
        diagnosed = None
        if message.startswith("Unexpected "):
            diagnosed = params.unknown(message[len("Unexpected ") :].split(", ")[0])
        elif request is not None and message in ("", "Bad request"):
            diagnosed = params.diagnose(
                request.method, request.path, request.get(keys.PARAMS) or {}
            )
            if diagnosed is None:
                message = (
                    f"Invalid request to {request.method} {request.path}: one of its "
                    "parameters has a value Stripe does not accept here."
                )
                error["message"] = message
        if diagnosed is not None:
            error.update(diagnosed)
    error.setdefault("message", "Bad request")
    return json_response({"error": error}, status=exc.code)


def unrecognized_url(request: web.Request) -> web.Response:
    """Stripe's 404 for a URL it has no route for."""
    return error_response(
        404,
        "invalid_request_error",
        f"Unrecognized request URL ({request.method}: {request.path}). Please see "
        "https://stripe.com/docs or we can help at https://support.stripe.com/.",
    )


def card_error(message: str, **extra: Any) -> UserError:
    """A 402 ``card_error`` as a localstripe ``UserError`` (raised from resource code)."""
    return UserError(402, message, {k: v for k, v in extra.items() if v is not None})


@web.middleware
async def error_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    """Turn localstripe errors, and unexpected exceptions, into Stripe error bodies."""
    try:
        return await handler(request)
    except UserError as exc:
        return from_user_error(exc, request)
    except (web.HTTPNotFound, web.HTTPMethodNotAllowed):
        if request.path.startswith("/v1/"):
            return unrecognized_url(request)
        raise
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
