"""Stripe Connect: send the user to Stripe's authorize page, take the code back.

The pages with the "Connect with Stripe" form allow Connect's origin in their `form-action`
(integrations.stripe_js.stripe_connect_csp): oauth_start answers that form's POST with a
redirect to Stripe, which the browser checks against the posting page's policy. The answer
comes back to Settings -> Integrations, where the connections are listed.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from integrations.selectors import oauth_authorize_url
from integrations.services import connection_create_from_oauth
from portal import perms
from portal.access import PortalRequest, get_workspace_for, workspace_view
from portal.audit import audit_by

SESSION_KEY = "stripe_oauth_states"


@workspace_view(perms.STRIPE_ALL)
@require_POST
def oauth_start(request: PortalRequest):
    """The state is random, kept in this session and bound to this workspace."""
    if not settings.STRIPE_CONNECT_CLIENT_ID:
        raise Http404("Stripe Connect is not configured.")
    state = secrets.token_urlsafe(32)
    states = request.session.get(SESSION_KEY, {})
    states[state] = request.workspace.slug
    request.session[SESSION_KEY] = dict(list(states.items())[-5:])
    redirect_uri = settings.SITE_URL + reverse("stripe_oauth_callback")
    return redirect(oauth_authorize_url(state=state, redirect_uri=redirect_uri))


@login_required
@require_GET
def oauth_callback(request: PortalRequest):
    states = request.session.get(SESSION_KEY, {})
    slug = states.pop(request.GET.get("state", ""), None)
    request.session[SESSION_KEY] = states
    if slug is None:
        context = {
            "reason": "This answer from Stripe does not belong to your session. Start again."
        }
        return render(request, "integrations/connections/oauth_failed.html", context, status=400)
    workspace = get_workspace_for(request, slug, perms.STRIPE_ALL)
    integrations = reverse("integrations_settings", args=[workspace.slug])
    if request.GET.get("error"):
        messages.warning(request, "Stripe Connect was cancelled; nothing was connected.")
        return redirect(integrations)
    try:
        connection = connection_create_from_oauth(
            workspace=workspace, code=request.GET.get("code", ""), **audit_by(request)
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(integrations)
    messages.success(request, f"Connected to {connection.account_name} through Stripe Connect.")
    return redirect(integrations)
