"""What the Stripe actions share: the connection to use, error translation, test runs."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from automation.actions.base import ActionContext, ActionError
from integrations.gateway.client import Credentials
from integrations.gateway.errors import IN_PROGRESS, GatewayError
from integrations.models import StripeConnection
from integrations.selectors import connection_credentials, default_connection


def connection_for(inputs: dict, ctx: ActionContext) -> StripeConnection:
    """The step's Integration (or the workspace's default); VALIDATION_ERROR if none."""
    wanted = inputs.get("connection") or ""
    connection = (
        ctx.workspace.stripe_connections.filter(uuid=wanted).first()
        if wanted
        else default_connection(ctx.workspace)
    )
    if connection is None:
        raise ActionError(
            "VALIDATION_ERROR",
            "The Stripe connection of this step is gone; choose another Integration.",
        )
    return connection


def credentials(connection: StripeConnection) -> Credentials:
    return connection_credentials(connection)


def dry_run(connection: StripeConnection, ctx: ActionContext) -> bool:
    """A test run on a live-mode account must not create anything in Stripe."""
    return ctx.test_run and connection.mode == StripeConnection.Mode.LIVE


@contextlib.contextmanager
def stripe_errors() -> Iterator[None]:
    """Gateway errors become step errors with the same code and retry rule."""
    try:
        yield
    except GatewayError as error:
        message = error.message
        if error.decline_code or error.stripe_code:
            message = f"{message} ({error.decline_code or error.stripe_code})"
        raise ActionError(
            error.code,
            message,
            # A 409 is not retried, unless it only says the same request is still in flight:
            # asking again once it finished gets its answer.
            retryable=error.retryable or error.stripe_code == IN_PROGRESS,
            details={"decline_code": error.decline_code, "stripe_code": error.stripe_code},
        ) from None
