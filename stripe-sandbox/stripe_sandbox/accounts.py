"""API keys and the accounts they belong to.

The sandbox knows only the keys registered through the control API. Each key maps to an
account; secret (``sk_``), restricted (``rk_``) and publishable (``pk_``) keys are told apart by
prefix, ``_live_`` keys act in live mode. Restricted keys carry permissions by resource
(``{"customers": "write", "payment_intents": "read"}``); ``write`` implies ``read``.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Any

from stripe_sandbox.context import random_token

_LEVELS = {"none": 0, "read": 1, "write": 2}


def mask_key(key: str) -> str:
    """Mask a key like Stripe does in error messages: prefix, asterisks, last four characters."""
    parts = key.split("_", 2)
    if len(parts) == 3 and len(parts[2]) > 4:
        secret = parts[2]
        return f"{parts[0]}_{parts[1]}_{'*' * (len(secret) - 4)}{secret[-4:]}"
    return "*" * max(len(key) - 4, 0) + key[-4:]


def key_kind(key: str) -> str | None:
    """``secret``, ``restricted``, ``publishable`` or None for something that is no Stripe key."""
    return {"sk": "secret", "rk": "restricted", "pk": "publishable"}.get(key.split("_", 1)[0])


@dataclass
class Account:
    """The account a set of keys belongs to; exported in Stripe's ``account`` shape."""

    id: str
    name: str = "Sandbox account"
    country: str = "US"
    default_currency: str = "usd"
    email: str | None = None
    created: int = field(default_factory=lambda: int(time.time()))
    # Set through the control API: ``[{"amount", "currency"}]`` (see ``balance``); pending None
    # means "only what the charges add".
    balance_available: list[dict[str, Any]] = field(default_factory=list)
    balance_pending: list[dict[str, Any]] = field(default_factory=list)
    # Payout bank accounts, in Stripe's ``bank_account`` shape (see ``add_external_account``).
    external_accounts: list[dict[str, Any]] = field(default_factory=list)

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Data files saved before a field existed load with its default.
        self.__dict__.update(balance_available=[], balance_pending=[], external_accounts=[])
        self.__dict__.update(state)

    def add_external_account(
        self,
        *,
        bank_name: str = "STRIPE TEST BANK",
        last4: str = "6789",
        status: str = "verified",
        currency: str = "usd",
        country: str = "US",
        routing_number: str = "110000000",
        account_holder_name: str | None = None,
        account_holder_type: str = "company",
    ) -> dict[str, Any]:
        """Add a payout bank account; the first one of a currency is its default."""
        if status not in ("new", "validated", "verified", "verification_failed", "errored"):
            raise ValueError(f"unknown bank account status {status!r}")
        if not (isinstance(last4, str) and len(last4) == 4 and last4.isdigit()):
            raise ValueError("last4 must be four digits")
        currency = currency.lower()
        bank = {
            "id": "ba_1" + random_token(23),
            "object": "bank_account",
            "account": self.id,
            "account_holder_name": account_holder_name or self.name,
            "account_holder_type": account_holder_type,
            "account_type": None,
            "available_payout_methods": ["standard"],
            "bank_name": bank_name,
            "country": country.upper(),
            "currency": currency,
            "customer": None,
            "default_for_currency": not any(
                b["currency"] == currency for b in self.external_accounts
            ),
            "fingerprint": random_token(16),
            "last4": last4,
            "metadata": {},
            "routing_number": routing_number,
            "status": status,
        }
        self.external_accounts.append(bank)
        return bank

    def export(self) -> dict[str, Any]:
        """The ``GET /v1/account`` body (shape of stripe-fixtures3.json's ``account``)."""
        body = copy.deepcopy(_ACCOUNT_TEMPLATE)
        body.update(
            id=self.id,
            created=self.created,
            country=self.country,
            default_currency=self.default_currency,
            email=self.email,
        )
        body["business_profile"]["name"] = self.name
        body["settings"]["dashboard"]["display_name"] = self.name
        body["external_accounts"] = {
            "object": "list",
            "data": copy.deepcopy(self.external_accounts),
            "has_more": False,
            "total_count": len(self.external_accounts),
            "url": f"/v1/accounts/{self.id}/external_accounts",
        }
        return body


@dataclass
class ApiKey:
    """A registered key. ``permissions`` is None for unrestricted (secret/publishable) keys."""

    key: str
    account_id: str
    kind: str
    livemode: bool
    permissions: dict[str, str] | None = None
    revoked: bool = False

    def allows(self, resource: str, level: str) -> bool:
        """Whether a restricted key grants ``level`` (read/write) on ``resource`` (``"*"``: on
        every resource not named)."""
        if self.permissions is None:
            return True
        granted = self.permissions.get(resource, self.permissions.get("*", "none"))
        return _LEVELS.get(granted, 0) >= _LEVELS[level]


class KeyRegistry:
    """All keys and accounts the sandbox knows."""

    def __init__(self) -> None:
        self.accounts: dict[str, Account] = {}
        self.keys: dict[str, ApiKey] = {}

    def reset(self) -> None:
        """Forget every key and account."""
        self.accounts.clear()
        self.keys.clear()

    def register(
        self,
        secret_key: str,
        *,
        publishable_key: str | None = None,
        account: dict[str, Any] | None = None,
        permissions: dict[str, str] | None = None,
    ) -> Account:
        """Register ``secret_key`` (sk_ or rk_) and ``publishable_key`` for an account.

        ``account`` holds id (optional: reuse an account already registered, or choose the id),
        name, country, default_currency, email. Raises ValueError on a malformed key.
        """
        kind = key_kind(secret_key)
        if kind not in ("secret", "restricted"):
            raise ValueError("secret_key must start with sk_ or rk_")
        if publishable_key is not None and key_kind(publishable_key) != "publishable":
            raise ValueError("publishable_key must start with pk_")
        if kind == "restricted" and permissions is None:
            permissions = {}
        acct = self.ensure_account(account)
        account_id = acct.id
        self.keys[secret_key] = ApiKey(
            secret_key,
            account_id,
            kind,
            "_live_" in secret_key,
            permissions if kind == "restricted" else None,
        )
        if publishable_key:
            self.keys[publishable_key] = ApiKey(
                publishable_key, account_id, "publishable", "_live_" in publishable_key
            )
        return acct

    def ensure_account(self, account: dict[str, Any] | None = None) -> Account:
        """The account ``account["id"]`` (created if new; a new id if none), with the other
        fields given (name, country, default_currency, email) set."""
        fields = dict(account or {})
        account_id = fields.pop("id", None) or "acct_1" + random_token(15)
        acct = self.accounts.get(account_id)
        if acct is None:
            acct = Account(id=account_id)
            self.accounts[account_id] = acct
        for name in ("name", "country", "default_currency", "email"):
            if fields.get(name) is not None:
                setattr(acct, name, fields[name])
        return acct

    def add_key(self, api_key: ApiKey) -> None:
        """Register an already built key (OAuth access tokens)."""
        self.keys[api_key.key] = api_key

    def revoke(self, key: str) -> bool:
        """Revoke ``key``; False if unknown."""
        api_key = self.keys.get(key)
        if api_key is None:
            return False
        api_key.revoked = True
        return True

    def lookup(self, key: str) -> ApiKey | None:
        """The registered, unrevoked key, or None."""
        api_key = self.keys.get(key)
        if api_key is None or api_key.revoked:
            return None
        return api_key


# Stripe's account object (stripe-fixtures3.json) with test-mode-ready values.
_ACCOUNT_TEMPLATE: dict[str, Any] = {
    "object": "account",
    "business_profile": {
        "annual_revenue": None,
        "estimated_worker_count": None,
        "mcc": None,
        "name": None,
        "product_description": None,
        "support_address": None,
        "support_email": None,
        "support_phone": None,
        "support_url": None,
        "url": None,
    },
    "business_type": None,
    "capabilities": {"card_payments": "active", "transfers": "active"},
    "charges_enabled": True,
    "controller": {"type": "account"},
    "details_submitted": True,
    "external_accounts": {"object": "list", "data": [], "has_more": False, "url": ""},
    "future_requirements": {
        "alternatives": [],
        "current_deadline": None,
        "currently_due": [],
        "disabled_reason": None,
        "errors": [],
        "eventually_due": [],
        "past_due": [],
        "pending_verification": [],
    },
    "metadata": {},
    "payouts_enabled": True,
    "requirements": {
        "alternatives": [],
        "current_deadline": None,
        "currently_due": [],
        "disabled_reason": None,
        "errors": [],
        "eventually_due": [],
        "past_due": [],
        "pending_verification": [],
    },
    "settings": {
        "branding": {"icon": None, "logo": None, "primary_color": None, "secondary_color": None},
        "card_payments": {
            "decline_on": {"avs_failure": False, "cvc_failure": True},
            "statement_descriptor_prefix": None,
        },
        "dashboard": {"display_name": None, "timezone": "Etc/UTC"},
        "payments": {"statement_descriptor": None},
        "payouts": {
            "debit_negative_balances": True,
            "schedule": {"delay_days": 2, "interval": "daily"},
            "statement_descriptor": None,
        },
    },
    "tos_acceptance": {"date": None, "ip": None, "user_agent": None},
    "type": "standard",
}
