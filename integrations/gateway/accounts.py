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
    with translate_errors(credentials):
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


@dataclass(frozen=True)
class Amount:
    amount: int
    currency: str


@dataclass(frozen=True)
class Balance:
    available: list[Amount]
    pending: list[Amount]


def balance_retrieve(credentials: Credentials) -> Balance:
    with translate_errors(credentials):
        balance = make_client(credentials).v1.balance.retrieve().to_dict()

    def amounts(key: str) -> list[Amount]:
        return [Amount(int(a["amount"]), a["currency"]) for a in balance.get(key) or []]

    return Balance(available=amounts("available"), pending=amounts("pending"))


@dataclass(frozen=True)
class BankAccount:
    id: str
    bank_name: str
    last4: str
    status: str
    currency: str
    country: str
    default_for_currency: bool


def bank_accounts_list(credentials: Credentials, *, account_id: str) -> list[BankAccount]:
    """The account's payout bank accounts."""
    with translate_errors(credentials):
        listing = make_client(credentials).v1.accounts.external_accounts.list(
            account_id, params={"object": "bank_account", "limit": 20}
        )
    return [
        BankAccount(
            id=ba["id"],
            bank_name=ba.get("bank_name") or "",
            last4=ba.get("last4") or "",
            status=ba.get("status") or "",
            currency=ba.get("currency") or "",
            country=ba.get("country") or "",
            default_for_currency=bool(ba.get("default_for_currency")),
        )
        for ba in (item.to_dict() for item in listing.data)
    ]
