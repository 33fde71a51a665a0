"""A connection's health: recorded when Stripe rejects its key, and the owners told once."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import timezone

from integrations.models import StripeConnection
from portal import perms
from portal.models import Membership
from portal.permissions import workspace_permissions

logger = logging.getLogger(__name__)

_HEALTH_FOR_CODE = {
    "AUTH_EXPIRED": StripeConnection.Health.AUTH_FAILED,
    "PERMISSION_DENIED": StripeConnection.Health.PERMISSION_MISSING,
}


def connection_health_failed(*, connection_id: int, code: str) -> None:
    """Mark the connection unhealthy; on the change from healthy, e-mail the workspace's owners."""
    health = _HEALTH_FOR_CODE[code]
    changed = (
        StripeConnection.objects.filter(pk=connection_id)
        .exclude(health=health)
        .update(health=health, last_checked_at=timezone.now())
    )
    if changed:
        connection = StripeConnection.objects.select_related("workspace").get(pk=connection_id)
        logger.warning("stripe connection %s is now %s", connection.uuid, health)
        _tell_owners(connection)


def connection_health_ok(*, connection: StripeConnection) -> None:
    connection.health = StripeConnection.Health.OK
    connection.last_checked_at = timezone.now()
    connection.save(update_fields=["health", "last_checked_at"])


def _tell_owners(connection: StripeConnection) -> None:
    workspace = connection.workspace
    memberships = Membership.objects.filter(workspace=workspace).select_related("user")
    recipients = [
        m.user.email
        for m in memberships
        if m.user.email and perms.STRIPE_ALL in workspace_permissions(m.user, workspace)
    ]
    if not recipients:
        return
    url = settings.SITE_URL + reverse("stripe_dashboard", args=[workspace.slug])
    send_mail(
        subject=f"Stripe stopped accepting the key of {workspace.name}",
        message=(
            f"Stripe answered that the key of the connection {connection} "
            f"({connection.masked_secret_key or connection.account_id}) is "
            f"{connection.get_health_display().lower()}. Charges, workflows and invoice "
            f"payments that use it will fail until it is replaced.\n\n"
            f"Replace the key on the Stripe page of the workspace: {url}\n"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=recipients,
        fail_silently=True,
    )
