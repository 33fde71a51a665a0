"""Stripe Connect OAuth: the authorize URL, the code exchange and deauthorization."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from integrations.gateway.client import Credentials, make_client
from integrations.gateway.errors import translate_errors


def _platform() -> Credentials:
    return Credentials(secret_key=settings.STRIPE_CONNECT_SECRET_KEY)


def authorize_url(*, state: str, redirect_uri: str) -> str:
    """Stripe's page where the account owner grants the platform access."""
    return make_client(_platform()).oauth.authorize_url(
        params={"scope": "read_write", "state": state, "redirect_uri": redirect_uri}
    )


@dataclass(frozen=True)
class Grant:
    account_id: str
    livemode: bool
    publishable_key: str


def code_exchange(*, code: str) -> Grant:
    """The connected account for an authorization code (a code works once)."""
    with translate_errors():  # an OAuthError (invalid_grant...) is a 400: VALIDATION_ERROR
        token = (
            make_client(_platform())
            .oauth.token(params={"grant_type": "authorization_code", "code": code})
            .to_dict()
        )
    return Grant(
        account_id=token["stripe_user_id"],
        livemode=bool(token.get("livemode")),
        publishable_key=token.get("stripe_publishable_key") or "",
    )


def deauthorize(*, account_id: str) -> None:
    """Revoke the platform's access to the account (the account itself is untouched)."""
    with translate_errors():
        make_client(_platform()).oauth.deauthorize(params={"stripe_user_id": account_id})
