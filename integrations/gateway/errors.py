"""One error type for the whole portal, with the normalized codes of DESIGN.md's table."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import stripe

from integrations.redaction import redact

logger = logging.getLogger(__name__)

VALIDATION_ERROR = "VALIDATION_ERROR"
AUTH_EXPIRED = "AUTH_EXPIRED"
PAYMENT_REQUIRED = "PAYMENT_REQUIRED"
PERMISSION_DENIED = "PERMISSION_DENIED"
NOT_FOUND = "NOT_FOUND"
CONFLICT = "CONFLICT"
RATE_LIMITED = "RATE_LIMITED"
PROVIDER_ERROR = "PROVIDER_ERROR"

RETRYABLE = frozenset({RATE_LIMITED, PROVIDER_ERROR})
# A 409 that only says the same request is still executing: waiting for it is safe.
IN_PROGRESS = "idempotency_key_in_use"

_BY_STATUS = {
    400: VALIDATION_ERROR,
    401: AUTH_EXPIRED,
    402: PAYMENT_REQUIRED,
    403: PERMISSION_DENIED,
    404: NOT_FOUND,
    409: CONFLICT,
    429: RATE_LIMITED,
}


class GatewayError(Exception):
    """A failed Stripe call. `code` is from the table; `retryable` says whether to try again
    (with the same idempotency key). `message` is safe to show: it never holds a key."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        http_status: int | None = None,
        stripe_code: str = "",
        decline_code: str = "",
        request_id: str = "",
        payment_intent_id: str = "",
        param: str = "",
        replayed: bool = False,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.http_status = http_status
        self.stripe_code = stripe_code
        self.decline_code = decline_code
        self.request_id = request_id
        self.payment_intent_id = payment_intent_id  # a decline names the intent it declined
        self.param = param  # the parameter a 400 names: amount, shipping[address][city]
        # Stripe's saved answer to an earlier request with this idempotency key (header
        # Idempotent-Replayed): that request's execution is over, whatever it did.
        self.replayed = replayed

    @property
    def retryable(self) -> bool:
        return self.code in RETRYABLE


def normalize(exc: stripe.StripeError) -> GatewayError:
    """Map any stripe-python error onto the table of DESIGN.md."""
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

    With the credentials of a stored connection, a rejected key (401) or a missing permission
    (403) is recorded on the connection, wherever in the portal the call was made.
    """
    try:
        yield
    except stripe.StripeError as exc:
        error = normalize(exc)
        logger.info("stripe call failed: %s (request %s)", error.code, error.request_id)
        connection_id = getattr(credentials, "connection_id", None)
        if connection_id and error.code in (AUTH_EXPIRED, PERMISSION_DENIED):
            from integrations.health import connection_health_failed

            connection_health_failed(connection_id=connection_id, code=error.code)
        raise error from None
