"""stripe-python's errors as the portal's `GatewayError`, with a normalized code.

The error type and the codes live in `integrations.errors`, so that code above the gateway can
name them without importing it; they are re-exported here, where the gateway and older imports
find them.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import stripe

from integrations.errors import (
    AUTH_EXPIRED,
    CONFLICT,
    IN_PROGRESS,
    KEY_REJECTED,
    NOT_FOUND,
    PAYMENT_REQUIRED,
    PERMISSION_DENIED,
    PROVIDER_ERROR,
    RATE_LIMITED,
    RETRYABLE,
    VALIDATION_ERROR,
    GatewayError,
)
from integrations.redaction import redact

__all__ = [
    "AUTH_EXPIRED",
    "CONFLICT",
    "IN_PROGRESS",
    "KEY_REJECTED",
    "NOT_FOUND",
    "PAYMENT_REQUIRED",
    "PERMISSION_DENIED",
    "PROVIDER_ERROR",
    "RATE_LIMITED",
    "RETRYABLE",
    "VALIDATION_ERROR",
    "GatewayError",
    "normalize",
    "translate_errors",
]

logger = logging.getLogger(__name__)

_BY_STATUS = {
    400: VALIDATION_ERROR,
    401: AUTH_EXPIRED,
    402: PAYMENT_REQUIRED,
    403: PERMISSION_DENIED,
    404: NOT_FOUND,
    409: CONFLICT,
    429: RATE_LIMITED,
}


def normalize(exc: stripe.StripeError) -> GatewayError:
    """Map any stripe-python error onto one of the codes of `integrations.errors`."""
    status = getattr(exc, "http_status", None)
    error = getattr(exc, "error", None)
    stripe_code = (
        (getattr(error, "code", None) or getattr(exc, "code", None) or "") if error else ""
    )
    decline_code = getattr(error, "decline_code", None) or "" if error else ""
    intent = getattr(error, "payment_intent", None) if error else None
    intent_id = (intent.get("id") if hasattr(intent, "get") else getattr(intent, "id", "")) or ""
    if isinstance(exc, stripe.APIConnectionError):
        code = PROVIDER_ERROR
        message = "Stripe could not be reached or did not answer in time."
    elif isinstance(exc, stripe.IdempotencyError):
        code = CONFLICT
        if stripe_code == IN_PROGRESS:
            message = "The same request is still in progress at Stripe."
        else:
            message = "Stripe refused a repeated request whose parameters changed."
    elif status in _BY_STATUS:
        code = _BY_STATUS[status]
        message = _safe_message(exc, code)
    else:
        code = PROVIDER_ERROR
        message = "Stripe had a problem answering."
    return GatewayError(
        code,
        message,
        http_status=status,
        stripe_code=stripe_code,
        decline_code=decline_code,
        request_id=getattr(exc, "request_id", None) or "",
        payment_intent_id=intent_id,
        param=(getattr(error, "param", None) or "") if error else "",
        replayed=_replayed(exc),
    )


def _replayed(exc: stripe.StripeError) -> bool:
    headers = getattr(exc, "headers", None) or {}
    return any(
        str(name).lower() == "idempotent-replayed" and str(value).lower() == "true"
        for name, value in dict(headers).items()
    )


def _safe_message(exc: stripe.StripeError, code: str) -> str:
    if code == AUTH_EXPIRED:
        # Stripe's own text quotes part of the key; ours does not.
        return "Stripe rejected the API key: it is wrong, revoked or expired."
    if code == PERMISSION_DENIED:
        return "The restricted API key lacks a permission this action needs."
    if code == RATE_LIMITED:
        return "Stripe is rate limiting this account."
    text = getattr(exc, "user_message", None) or getattr(exc, "_message", None) or str(exc)
    return redact(str(text))


@contextlib.contextmanager
def translate_errors(credentials=None) -> Iterator[None]:
    """Run Stripe calls; raise `GatewayError` instead of any stripe-python error.

    A rejected key (401) or a missing permission (403) is also told to the credentials'
    `on_rejected`, if they have one: the gateway only reports it, whoever made the credentials
    decides what it means for their connection.
    """
    try:
        yield
    except stripe.StripeError as exc:
        error = normalize(exc)
        logger.info("stripe call failed: %s (request %s)", error.code, error.request_id)
        on_rejected = getattr(credentials, "on_rejected", None)
        if on_rejected is not None and error.code in KEY_REJECTED:
            on_rejected(error.code)
        raise error from None
