"""The Stripe account behind a set of credentials."""

from __future__ import annotations

from dataclasses import dataclass

from integrations.gateway.client import Credentials, make_client
from integrations.gateway.errors import (
    AUTH_EXPIRED,
    NOT_FOUND,
    PERMISSION_DENIED,
    VALIDATION_ERROR,
    GatewayError,
    translate_errors,
)


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


def publishable_key_belongs(
    credentials: Credentials, *, publishable_key: str, idempotency_key: str
) -> bool:
    """Whether `publishable_key` is a key of the account `credentials` act on.

    Stripe has no call that names a publishable key's account, so: a SetupIntent (no money,
    no customer) is made with the secret key, then read back with the publishable key and its
    client secret, which Stripe.js may do and Stripe answers only for the intent's own account
    (another account's key gets 404, an unknown key 401). The intent is canceled afterwards.
    Raises GatewayError if the secret key's call fails (e.g. PERMISSION_DENIED).
    """
    with translate_errors(credentials):
        secret_client = make_client(credentials)
        intent = secret_client.v1.setup_intents.create(
            params={
                "usage": "off_session",
                "metadata": {"portal_purpose": "publishable key check"},
            },
            options={"idempotency_key": idempotency_key},
        )
    # As Stripe.js calls it: no Stripe-Account header (the key names its account), counted
    # against the account's rate limit; a refusal must not mark the connection's key rejected.
    as_browser = Credentials(
        secret_key=publishable_key,
        account_id=credentials.stripe_account or credentials.account_id,
    )
    try:
        with translate_errors():
            make_client(as_browser).v1.setup_intents.retrieve(
                intent.id, params={"client_secret": intent.client_secret}
            )
        belongs = True
    except GatewayError as error:
        if error.code not in (AUTH_EXPIRED, NOT_FOUND, PERMISSION_DENIED, VALIDATION_ERROR):
            raise
        belongs = False
    try:
        with translate_errors(credentials):
            secret_client.v1.setup_intents.cancel(intent.id)
    except GatewayError:
        pass  # tidiness only: an unconfirmed SetupIntent without a customer moves nothing
    return belongs
