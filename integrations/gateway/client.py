"""The client factory: the one place a `StripeClient` is built."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

import stripe
from django.conf import settings

from integrations.gateway.rate_limit import throttle

# Pinned with the SDK (pyproject pins stripe==16.1.0): payloads are parsed for this version.
API_VERSION = "2026-10-28.endive"


@dataclass(frozen=True)
class Credentials:
    """What a call needs to reach one Stripe account."""

    secret_key: str
    stripe_account: str | None = None  # Connect: act on a connected account
    connection_id: int | None = None  # the stored connection they are of, for logs
    account_id: str = ""  # the key's own account, when known
    # Told the error code when Stripe rejects the key (AUTH_EXPIRED) or a permission is
    # missing (PERMISSION_DENIED): the gateway only calls Stripe, so what a rejected key means
    # for a stored connection is up to whoever made these credentials.
    on_rejected: Callable[[str], None] | None = field(default=None, compare=False, repr=False)

    @property
    def livemode(self) -> bool:
        return "_live_" in self.secret_key  # sk_live_, rk_live_

    @property
    def rate_account(self) -> str:
        """Whose rate limit a call counts against: the account acted on (Stripe limits each
        account, per mode), or, for a key whose account is not known yet, the key (hashed)."""
        key_hash = hashlib.sha256(self.secret_key.encode()).hexdigest()[:24]
        return self.stripe_account or self.account_id or f"key:{key_hash}"

    def __repr__(self) -> str:  # keep the key out of logs and tracebacks
        return f"Credentials(connection_id={self.connection_id}, account={self.stripe_account})"


class ThrottledClient(stripe.RequestsClient):
    """stripe-python's HTTP client, waiting for the account's turn before every request
    (``integrations.gateway.rate_limit``)."""

    def __init__(self, credentials: Credentials, **kwargs) -> None:
        super().__init__(**kwargs)
        self._rate_account = credentials.rate_account
        self._livemode = credentials.livemode

    def request(self, method, url, headers, post_data=None):
        throttle(self._rate_account, live=self._livemode)
        return super().request(method, url, headers, post_data)

    def request_stream(self, method, url, headers, post_data=None):
        throttle(self._rate_account, live=self._livemode)
        return super().request_stream(method, url, headers, post_data)


def make_client(credentials: Credentials) -> stripe.StripeClient:
    """A client for one account: our API base, the pinned version, a timeout, no SDK retries,
    each request waiting for its turn under the account's rate limit.

    Retries are ours (the workflow engine retries with the same idempotency key), so the SDK
    must not retry behind our back.
    """
    return stripe.StripeClient(
        credentials.secret_key,
        stripe_account=credentials.stripe_account,
        stripe_version=API_VERSION,
        base_addresses={"api": settings.STRIPE_API_BASE, "connect": settings.STRIPE_CONNECT_BASE},
        client_id=settings.STRIPE_CONNECT_CLIENT_ID or None,
        max_network_retries=0,
        http_client=ThrottledClient(credentials, timeout=settings.STRIPE_TIMEOUT_SECONDS),
    )
