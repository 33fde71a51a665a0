"""Stripe Connect for standard accounts: platforms, OAuth grants and connections.

A platform is an account (registered like any other, through its secret key) with a
``client_id`` (``ca_...``). The OAuth flow (``stripe_sandbox.oauth``) connects an account to
the platform: the authorize page shows which account would be connected (chosen with
``next_connected_account``, else a fresh "Connected Account N"), granting gives a one-time code,
``/oauth/token`` trades it for an access token (a secret key of the connected account). While the
connection lasts, the platform's own keys may act on the account with ``Stripe-Account``;
``/oauth/deauthorize`` ends it and revokes the tokens it issued. While it lasts, the
account's events also go to the platform's Connect webhook endpoints (``webhooks``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from stripe_sandbox.accounts import Account, ApiKey, KeyRegistry
from stripe_sandbox.context import random_token

SCOPES = ("read_write", "read_only")
CODE_LIFETIME_SECONDS = 300


@dataclass
class Platform:
    """A Connect platform: its client id, its own account and default redirect URI."""

    client_id: str
    account_id: str
    redirect_uri: str | None = None
    livemode: bool = False  # its key is a live one: grants issue live tokens
    # Accounts the next grants connect, oldest first (created when chosen).
    next_account_ids: list[str] = field(default_factory=list)


@dataclass
class Grant:
    """An authorization code, usable once."""

    code: str
    client_id: str
    account_id: str
    scope: str
    livemode: bool
    created: float = field(default_factory=time.time)
    used: bool = False


@dataclass
class Connection:
    """An account connected to a platform, with the tokens issued for it."""

    client_id: str
    platform_account_id: str
    account_id: str
    scope: str
    refresh_token: str
    tokens: list[str] = field(default_factory=list)  # access tokens and publishable keys
    # The modes tokens were issued in: which of the platform's Connect webhook endpoints (live,
    # test) get the account's events.
    livemodes: set[bool] = field(default_factory=set)


class ConnectRegistry:
    """Platforms by client id, outstanding codes and live connections."""

    def __init__(self) -> None:
        self.platforms: dict[str, Platform] = {}
        self.codes: dict[str, Grant] = {}
        # (platform account id, connected account id) -> Connection
        self.connections: dict[tuple[str, str], Connection] = {}
        self.fresh_accounts = 0

    def reset(self) -> None:
        self.platforms.clear()
        self.codes.clear()
        self.connections.clear()
        self.fresh_accounts = 0

    # Platforms ---------------------------------------------------------------------------
    def register_platform(
        self,
        keys: KeyRegistry,
        client_id: str,
        secret_key: str,
        *,
        account: dict[str, Any] | None = None,
        redirect_uri: str | None = None,
    ) -> Platform:
        """Register ``client_id`` for the account of ``secret_key`` (registered here unless
        known). Raises ValueError on malformed input."""
        if not isinstance(client_id, str) or not client_id.startswith("ca_"):
            raise ValueError("client_id must start with ca_")
        known = keys.lookup(secret_key) if isinstance(secret_key, str) else None
        if known is not None:
            if known.kind != "secret":
                raise ValueError("a platform needs a secret (sk_) key")
            acct = keys.ensure_account({**(account or {}), "id": known.account_id})
        else:
            if not isinstance(secret_key, str) or not secret_key.startswith("sk_"):
                raise ValueError("secret_key must start with sk_")
            acct = keys.register(secret_key, account=account)
        previous = self.platforms.get(client_id)
        platform = Platform(
            client_id,
            acct.id,
            redirect_uri,
            "_live_" in secret_key,
            previous.next_account_ids if previous else [],
        )
        self.platforms[client_id] = platform
        return platform

    def platform_of_account(self, account_id: str) -> Platform | None:
        """The platform whose own account is ``account_id``, if any."""
        for platform in self.platforms.values():
            if platform.account_id == account_id:
                return platform
        return None

    def queue_account(
        self, keys: KeyRegistry, client_id: str, account: dict[str, Any] | None
    ) -> Account:
        """Make ``account`` (an existing id, or fields of a new one) the next one connected."""
        platform = self.platforms[client_id]
        acct = keys.ensure_account(account or {"name": self._fresh_name()})
        platform.next_account_ids.append(acct.id)
        return acct

    def _fresh_name(self) -> str:
        self.fresh_accounts += 1
        return f"Connected Account {self.fresh_accounts}"

    def account_to_connect(self, keys: KeyRegistry, platform: Platform) -> Account:
        """The account the next grant would connect (a fresh one is queued if none is)."""
        while platform.next_account_ids:
            acct = keys.accounts.get(platform.next_account_ids[0])
            if acct is not None:
                return acct
            platform.next_account_ids.pop(0)  # wiped meanwhile
        return self.queue_account(keys, platform.client_id, None)

    # Grants and tokens ---------------------------------------------------------------------
    def grant(self, platform: Platform, account_id: str, scope: str, livemode: bool) -> Grant:
        """The user granted access: a code for ``account_id``, which leaves the queue."""
        if account_id in platform.next_account_ids:
            platform.next_account_ids.remove(account_id)
        grant = Grant("ac_" + random_token(32), platform.client_id, account_id, scope, livemode)
        self.codes[grant.code] = grant
        return grant

    def connect(self, keys: KeyRegistry, grant: Grant) -> tuple[Connection, str, str]:
        """Connect the grant's account; returns (connection, access token, publishable key)."""
        platform = self.platforms[grant.client_id]
        pair = (platform.account_id, grant.account_id)
        connection = self.connections.get(pair)
        if connection is None or connection.scope != grant.scope:
            if connection is not None:
                self._revoke_tokens(keys, connection)
            connection = Connection(
                grant.client_id,
                platform.account_id,
                grant.account_id,
                grant.scope,
                "rt_" + random_token(32),
            )
            self.connections[pair] = connection
        access_token, publishable = self.issue_tokens(keys, connection, grant.livemode)
        return connection, access_token, publishable

    def issue_tokens(
        self, keys: KeyRegistry, connection: Connection, livemode: bool
    ) -> tuple[str, str]:
        """A new access token and publishable key for the connected account."""
        mode = "live" if livemode else "test"
        access_token = f"sk_{mode}_{random_token(40)}"
        publishable = f"pk_{mode}_{random_token(40)}"
        permissions = {"*": "read"} if connection.scope == "read_only" else None
        keys.add_key(ApiKey(access_token, connection.account_id, "secret", livemode, permissions))
        keys.add_key(ApiKey(publishable, connection.account_id, "publishable", livemode))
        connection.tokens += [access_token, publishable]
        # (A connection saved before modes were kept has none.)
        connection.livemodes = {*getattr(connection, "livemodes", ()), livemode}
        return access_token, publishable

    def by_refresh_token(self, platform: Platform, refresh_token: str) -> Connection | None:
        for connection in self.connections.values():
            if (
                connection.platform_account_id == platform.account_id
                and connection.refresh_token == refresh_token
            ):
                return connection
        return None

    def deauthorize(self, keys: KeyRegistry, platform: Platform, account_id: str) -> bool:
        """End the connection and revoke its tokens; False if there was none."""
        connection = self.connections.pop((platform.account_id, account_id), None)
        if connection is None:
            return False
        self._revoke_tokens(keys, connection)
        for code, grant in list(self.codes.items()):
            if grant.client_id == platform.client_id and grant.account_id == account_id:
                del self.codes[code]
        return True

    @staticmethod
    def _revoke_tokens(keys: KeyRegistry, connection: Connection) -> None:
        for token in connection.tokens:
            keys.revoke(token)

    def connection(self, platform_account_id: str, account_id: str) -> Connection | None:
        """The connection letting ``platform_account_id`` act on ``account_id``, if any."""
        return self.connections.get((platform_account_id, account_id))

    def platforms_of(self, account_id: str) -> dict[str, set[bool]]:
        """The accounts of the platforms ``account_id`` is connected to, with the modes it is
        connected in (whose Connect webhook endpoints get its events)."""
        return {
            platform: set(getattr(connection, "livemodes", {False}))
            for (platform, connected), connection in self.connections.items()
            if connected == account_id
        }

    def export(self) -> list[dict[str, Any]]:
        """The platforms and their connections (control API)."""
        return [
            {
                "client_id": p.client_id,
                "account": p.account_id,
                "redirect_uri": p.redirect_uri,
                "next_connected_accounts": list(p.next_account_ids),
                "connections": [
                    {"stripe_user_id": c.account_id, "scope": c.scope}
                    for c in self.connections.values()
                    if c.client_id == p.client_id
                ],
            }
            for p in self.platforms.values()
        ]
