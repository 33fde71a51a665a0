"""The Stripe dashboard of a workspace: its connections, the account, balance and bank accounts.

Every Stripe page answers a failed call with one panel (`_no_connection.html`) that says what
is wrong and who can fix it, never with an error page: `stripe_problem` builds its context.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.shortcuts import render
from django.views.decorators.http import require_GET

from integrations.errors import (
    AUTH_EXPIRED,
    PERMISSION_DENIED,
    PROVIDER_ERROR,
    RATE_LIMITED,
    GatewayError,
)
from integrations.models import StripeConnection
from integrations.selectors import chosen_connection, dashboard_load
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


@workspace_view(perms.STRIPE_VIEW, perms.STRIPE_READ)  # as the payment guide says
@require_GET
def stripe_dashboard(request: PortalRequest):
    connection = connection_for(request)
    context: dict = {"connection": connection}
    if connection is None:
        context.update(stripe_problem(None))
    else:
        try:
            context["data"] = dashboard_load(connection)
        except GatewayError as error:
            context.update(stripe_problem(connection, error))
    # Listed after the calls, so the switcher shows the health they found.
    context["connections"] = list(request.workspace.stripe_connections.all())
    return render(request, "integrations/dashboard.html", context)
