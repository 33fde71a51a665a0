"""The Stripe dashboard of a workspace: its connections, the account, balance and bank accounts.

Every Stripe page answers a failed call with one panel (`_no_connection.html`) that says what
is wrong and who can fix it, never with an error page: `stripe_problem` builds its context.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.shortcuts import render
from django.views.decorators.http import require_GET

from integrations.gateway.accounts import (
    Account,
    Balance,
    BankAccount,
    account_retrieve,
    balance_retrieve,
    bank_accounts_list,
)
from integrations.gateway.client import credentials_for
from integrations.gateway.errors import (
    AUTH_EXPIRED,
    PERMISSION_DENIED,
    PROVIDER_ERROR,
    RATE_LIMITED,
    GatewayError,
)
from integrations.health import connection_health_ok
from integrations.models import StripeConnection
from integrations.selectors import chosen_connection
from portal import perms
from portal.access import PortalRequest, workspace_view


def from_unix(seconds: int) -> datetime | None:
    """Stripe's `created` (unix seconds) as an aware datetime; templates show it in the
    viewer's zone."""
    return datetime.fromtimestamp(seconds, tz=UTC) if seconds else None


def connection_for(request: PortalRequest) -> StripeConnection | None:
    """The connection the page shows: `?connection=<uuid>` (404 if not the workspace's), the
    default one, or the first one when several exist and none is the default."""
    chosen = chosen_connection(request.workspace, request.GET.get("connection"))
    return chosen or request.workspace.stripe_connections.first()


def connection_query(request: PortalRequest, connection: StripeConnection | None) -> str:
    """`?connection=<uuid>` when the page was asked for a connection by name, so links to the
    other Stripe pages stay on the same account; empty for the default one."""
    if connection is None or not request.GET.get("connection"):
        return ""
    return f"?connection={connection.uuid}"


def stripe_problem(connection: StripeConnection | None, error: GatewayError | None = None) -> dict:
    """The panel's context. `problem` is `missing` (no connection), `rejected` (the key),
    `permission` (a restricted key), `unreachable` (Stripe did not answer) or `failed`."""
    health = connection.health if connection else None
    if connection is None:
        problem = "missing"
    elif error.code == AUTH_EXPIRED:
        problem = "rejected"
    elif error.code == PERMISSION_DENIED:
        problem = "permission"
    # A key already known to be bad explains any failure better than the failure itself.
    elif health == StripeConnection.Health.AUTH_FAILED:
        problem = "rejected"
    elif health == StripeConnection.Health.PERMISSION_MISSING:
        problem = "permission"
    elif error.code in (PROVIDER_ERROR, RATE_LIMITED):
        problem = "unreachable"
    else:
        problem = "failed"
    return {"problem": problem, "problem_connection": connection, "problem_error": error}


@dataclass(frozen=True)
class BalanceRow:
    currency: str
    available: int
    pending: int


@dataclass(frozen=True)
class DashboardData:
    account: Account
    balances: list[BalanceRow]  # one per currency, the account's default currency first
    bank_accounts: list[BankAccount]


def _balance_rows(balance: Balance, default_currency: str) -> list[BalanceRow]:
    available: dict[str, int] = {}
    pending: dict[str, int] = {}
    for totals, amounts in ((available, balance.available), (pending, balance.pending)):
        for amount in amounts:
            totals[amount.currency] = totals.get(amount.currency, 0) + amount.amount
    currencies = sorted(set(available) | set(pending), key=lambda c: (c != default_currency, c))
    return [BalanceRow(c, available.get(c, 0), pending.get(c, 0)) for c in currencies]


def _dashboard_data(connection: StripeConnection) -> DashboardData:
    credentials = credentials_for(connection)
    account = account_retrieve(credentials)
    return DashboardData(
        account=account,
        balances=_balance_rows(balance_retrieve(credentials), account.default_currency),
        bank_accounts=bank_accounts_list(credentials, account_id=account.id),
    )


@workspace_view(perms.STRIPE_VIEW)
@require_GET
def stripe_dashboard(request: PortalRequest):
    connection = connection_for(request)
    context: dict = {"connection": connection}
    if connection is None:
        context.update(stripe_problem(None))
    else:
        try:
            context["data"] = _dashboard_data(connection)
        except GatewayError as error:
            connection.refresh_from_db()  # the gateway may just have marked it unhealthy
            context.update(stripe_problem(connection, error))
        else:
            if connection.health != StripeConnection.Health.OK:
                # Stripe accepts the key again: say so rather than show a stale warning.
                connection_health_ok(connection=connection)
    # Listed after the calls, so the switcher shows the health they found.
    context["connections"] = list(request.workspace.stripe_connections.all())
    return render(request, "integrations/dashboard.html", context)
