"""The client factory: the one place a `StripeClient` is built."""

from __future__ import annotations

from dataclasses import dataclass

import stripe
from django.conf import settings

# Pinned with the SDK (pyproject pins stripe==16.1.0): payloads are parsed for this version.
API_VERSION = "2026-10-28.endive"


@dataclass(frozen=True)
class Credentials:
    """What a call needs to reach one Stripe account."""

    secret_key: str
    stripe_account: str | None = None  # Connect: act on a connected account
    connection_id: int | None = None  # lets errors mark the connection unhealthy

    def __repr__(self) -> str:  # keep the key out of logs and tracebacks
        return f"Credentials(connection_id={self.connection_id}, account={self.stripe_account})"


def credentials_for(connection) -> Credentials:
    """Credentials of a `StripeConnection` (Connect connections use the platform key)."""
    if connection.connected_via == "oauth":
        return Credentials(
            secret_key=settings.STRIPE_CONNECT_SECRET_KEY,
            stripe_account=connection.account_id,
            connection_id=connection.pk,
        )
    return Credentials(secret_key=connection.secret_key, connection_id=connection.pk)


def make_client(credentials: Credentials) -> stripe.StripeClient:
    """A client for one account: our API base, the pinned version, a timeout, no SDK retries.

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
        http_client=stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUT_SECONDS),
    )
