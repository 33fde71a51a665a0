"""Reads of Stripe connections."""

from __future__ import annotations

import uuid

from django.http import Http404

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
