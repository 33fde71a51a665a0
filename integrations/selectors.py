"""Reads of Stripe connections, and of the Stripe accounts behind them."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.http import Http404

from integrations.errors import GatewayError
from integrations.gateway.accounts import (
    Account,
    Balance,
    BankAccount,
    account_retrieve,
    balance_retrieve,
    bank_accounts_list,
)
from integrations.gateway.client import Credentials
from integrations.gateway.connect import authorize_url
from integrations.gateway.customers import (
    Card,
    Customer,
    CustomerPage,
    PaymentSummary,
    cards_list,
    customer_retrieve,
    customers_page,
    payments_list,
)
from integrations.gateway.webhooks import MAX_ENDPOINTS, endpoint_count
from integrations.health import connection_health_confirm, connection_key_rejected
from integrations.models import StripeConnection
from portal.models import Workspace


def default_connection(workspace: Workspace) -> StripeConnection | None:
    """The workspace's default connection (or its only one), if any."""
    connections = list(workspace.stripe_connections.all()[:2])
    for connection in connections:
        if connection.is_default:
            return connection
    return connections[0] if len(connections) == 1 else None


def chosen_connection(workspace: Workspace, connection_uuid: str | None) -> StripeConnection | None:
    """The connection named by `?connection=<uuid>` (404 if it is not the workspace's), or the
    default one."""
    if not connection_uuid:
        return default_connection(workspace)
    try:
        return workspace.stripe_connections.get(uuid=uuid.UUID(str(connection_uuid)))
    except (StripeConnection.DoesNotExist, ValueError):
        raise Http404("No such connection.") from None


def connection_credentials(connection: StripeConnection) -> Credentials:
    """What the gateway needs to call Stripe for a stored connection (Connect connections use
    the platform key on the connected account).

    A rejected key or a missing permission, on whichever call and wherever in the portal it
    was made, marks the connection and warns its owners: the gateway reports it through
    `on_rejected`, the health service records it.
    """
    on_rejected = partial(connection_key_rejected, connection.pk)
    if connection.connected_via == StripeConnection.Via.OAUTH:
        return Credentials(
            secret_key=settings.STRIPE_CONNECT_SECRET_KEY,
            stripe_account=connection.account_id,
            connection_id=connection.pk,
            on_rejected=on_rejected,
        )
    return Credentials(
        secret_key=connection.secret_key,
        connection_id=connection.pk,
        account_id=connection.account_id,
        on_rejected=on_rejected,
    )


@contextlib.contextmanager
def connection_calls(connection: StripeConnection) -> Iterator[Credentials]:
    """The connection's credentials for a few calls. When one fails, the connection's health is
    read again before the error goes on: the failure may just have marked it, and a page that
    explains the failure explains it by the health."""
    try:
        yield connection_credentials(connection)
    except GatewayError:
        connection.refresh_from_db(fields=["health", "last_checked_at"])
        raise


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


def dashboard_load(connection: StripeConnection) -> DashboardData:
    """The account, its balance per currency and its payout bank accounts; GatewayError with
    the connection's health read again if Stripe refuses.

    When Stripe answers a connection marked unhealthy, the mark is cleared (the key works
    again): the dashboard then shows the account rather than a stale warning.
    """
    with connection_calls(connection) as credentials:
        account = account_retrieve(credentials)
        data = DashboardData(
            account=account,
            balances=_balance_rows(balance_retrieve(credentials), account.default_currency),
            bank_accounts=bank_accounts_list(credentials, account_id=account.id),
        )
    connection_health_confirm(connection=connection)
    return data


def customers_page_load(connection: StripeConnection, *, query: str, cursor: str) -> CustomerPage:
    """One page of the account's customers, matching `query` if given, after `cursor`."""
    with connection_calls(connection) as credentials:
        return customers_page(credentials, query=query, cursor=cursor)


@dataclass(frozen=True)
class CustomerDetail:
    customer: Customer
    cards: list[Card]  # empty for a deleted customer
    payments: list[PaymentSummary]  # the latest ones, newest first


def customer_detail_load(connection: StripeConnection, *, customer_id: str) -> CustomerDetail:
    """The customer with their saved cards and latest payments (a deleted customer: without);
    GatewayError NOT_FOUND if the account has no such customer."""
    with connection_calls(connection) as credentials:
        customer = customer_retrieve(credentials, customer_id=customer_id)
        if customer.deleted:
            return CustomerDetail(customer=customer, cards=[], payments=[])
        return CustomerDetail(
            customer=customer,
            cards=cards_list(credentials, customer_id=customer_id),
            payments=payments_list(credentials, customer_id=customer_id, limit=10),
        )


def customer_load(connection: StripeConnection, *, customer_id: str) -> Customer:
    """The customer alone (maybe deleted); GatewayError NOT_FOUND if the account has none."""
    with connection_calls(connection) as credentials:
        return customer_retrieve(credentials, customer_id=customer_id)


@dataclass(frozen=True)
class WebhookEndpointUsage:
    used: int | None  # None: Stripe did not say
    limit: int


def webhook_endpoint_usage(connection: StripeConnection) -> WebhookEndpointUsage:
    """How many of the account's webhook endpoints are taken, of the most Stripe allows."""
    try:
        used = endpoint_count(connection_credentials(connection))
    except GatewayError:
        used = None
    return WebhookEndpointUsage(used=used, limit=MAX_ENDPOINTS)


def oauth_authorize_url(*, state: str, redirect_uri: str) -> str:
    """Stripe's page where an account owner grants the platform access (Stripe Connect)."""
    return authorize_url(state=state, redirect_uri=redirect_uri)
