"""The Stripe account behind a set of credentials."""

from __future__ import annotations

from dataclasses import dataclass

from integrations.gateway.client import Credentials, make_client
from integrations.gateway.errors import translate_errors


@dataclass(frozen=True)
class Account:
    id: str
    name: str
    country: str
    default_currency: str
    email: str


def account_retrieve(credentials: Credentials) -> Account:
    """The account the key belongs to; also the check that a key works."""
    with translate_errors():
        account = make_client(credentials).v1.accounts.retrieve_current().to_dict()
    profile = account.get("business_profile") or {}
    dashboard = (account.get("settings") or {}).get("dashboard") or {}
    return Account(
        id=account["id"],
        name=profile.get("name") or dashboard.get("display_name") or account["id"],
        country=account.get("country") or "",
        default_currency=account.get("default_currency") or "",
        email=account.get("email") or "",
    )
