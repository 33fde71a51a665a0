"""Settings -> Integrations: the workspace's Stripe account, connected or not, and how to
connect one (Stripe Connect, or pasting a secret key)."""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import render
from django.views.decorators.http import require_GET

from integrations.stripe_js import stripe_connect_csp
from portal import perms
from portal.access import PortalRequest, workspace_view


@workspace_view(perms.STRIPE_VIEW)
@require_GET
@stripe_connect_csp
def integrations_settings(request: PortalRequest):
    """Lists the connections as stored (no call to Stripe); the buttons need `stripe=*`."""
    context = {
        "connections": list(request.workspace.stripe_connections.all()),
        "oauth_enabled": bool(settings.STRIPE_CONNECT_CLIENT_ID),
    }
    return render(request, "integrations/settings.html", context)
