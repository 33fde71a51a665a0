"""The portal's one error type for a failed Stripe call, and its normalized codes.

Kept apart from the gateway, which raises them, so that views and services can name an error
without importing the code that talks to Stripe.
"""

from __future__ import annotations

VALIDATION_ERROR = "VALIDATION_ERROR"
AUTH_EXPIRED = "AUTH_EXPIRED"
PAYMENT_REQUIRED = "PAYMENT_REQUIRED"
PERMISSION_DENIED = "PERMISSION_DENIED"
NOT_FOUND = "NOT_FOUND"
CONFLICT = "CONFLICT"
RATE_LIMITED = "RATE_LIMITED"
PROVIDER_ERROR = "PROVIDER_ERROR"

RETRYABLE = frozenset({RATE_LIMITED, PROVIDER_ERROR})
# The codes that say the key itself no longer works for the account: wrong, revoked or expired
# (401), or a restricted key without a permission the call needs (403).
KEY_REJECTED = frozenset({AUTH_EXPIRED, PERMISSION_DENIED})
# A 409 that only says the same request is still executing: waiting for it is safe.
IN_PROGRESS = "idempotency_key_in_use"


class GatewayError(Exception):
    """A failed Stripe call. `code` is one of the codes above; `retryable` says whether to try
    again (with the same idempotency key). `message` is safe to show: it never holds a key."""

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
