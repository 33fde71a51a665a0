"""A connection's health: recorded when Stripe rejects its key, the owners told once (by a
task), and confirmed when Stripe accepts the key again."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_q.tasks import async_task

from integrations.models import StripeConnection
from portal import perms
from portal.emails import email_send_each
from portal.models import Membership
from portal.permissions import workspace_permissions

logger = logging.getLogger(__name__)

_HEALTH_FOR_CODE = {
    "AUTH_EXPIRED": StripeConnection.Health.AUTH_FAILED,
    "PERMISSION_DENIED": StripeConnection.Health.PERMISSION_MISSING,
}


def connection_key_rejected(connection_id: int, code: str) -> None:
    """Mark the connection unhealthy (Stripe answered AUTH_EXPIRED or PERMISSION_DENIED to one
    of its calls); on the change from healthy, the workspace's owners are e-mailed once.

    Called from inside a Stripe call that is failing, wherever it was made: one UPDATE here,
    and the e-mail left to a task after the commit, so that the failing request neither waits
    for a mail server nor mails about a mark that its rollback undid.
    """
    health = _HEALTH_FOR_CODE[code]
    changed = (
        StripeConnection.objects.filter(pk=connection_id)
        .exclude(health=health)
        .update(health=health, last_checked_at=timezone.now())
    )
    if changed:
        logger.warning("stripe connection %s is now %s", connection_id, health)
        transaction.on_commit(
            lambda: async_task("integrations.tasks.warn_owners_of_rejected_key", connection_id),
            robust=True,
        )


def connection_health_confirm(*, connection: StripeConnection) -> None:
    """Stripe answered a call with the connection's key: a mark from an earlier rejection is
    stale, so it is cleared rather than left warning about a key that works."""
    if connection.health == StripeConnection.Health.OK:
        return
    connection.health = StripeConnection.Health.OK
    connection.last_checked_at = timezone.now()
    connection.save(update_fields=["health", "last_checked_at"])


def connection_owners_warn(*, connection_id: int) -> None:
    """E-mail the owners that Stripe rejects the connection's key, if it still does: a key
    replaced (or accepted again) before the task ran needs no warning."""
    connection = (
        StripeConnection.objects.select_related("workspace").filter(pk=connection_id).first()
    )
    if connection is None or connection.health not in _HEALTH_FOR_CODE.values():
        return
    _tell_owners(connection)


def _tell_owners(connection: StripeConnection) -> None:
    workspace = connection.workspace
    memberships = Membership.objects.filter(workspace=workspace).select_related("user")
    recipients = [
        m.user
        for m in memberships
        if m.user.email and perms.STRIPE_ALL in workspace_permissions(m.user, workspace)
    ]
    if not recipients:
        return
    context = {
        "connection": connection,
        "key": connection.masked_secret_key or connection.account_id,
        "health": connection.get_health_display().lower(),
        "url": settings.SITE_URL + reverse("stripe_dashboard", args=[workspace.slug]),
    }
    email_send_each(
        "key_rejected",
        context,
        subject=f"Stripe stopped accepting the key of {workspace.name}",
        workspace=workspace,
        users=recipients,
        fail_silently=True,
    )
