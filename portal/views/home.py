from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from portal.access import PortalRequest, member_workspaces, workspace_view
from portal.selectors import invitations_open_for


@login_required
@require_GET
def home(request: PortalRequest):
    """The workspace switcher as a page, with the invitations waiting for an answer; a single
    workspace and no invitation opens that workspace directly."""
    workspaces = list(member_workspaces(request.user))
    invitations = invitations_open_for(request.user)
    if len(workspaces) == 1 and not invitations:
        return redirect(workspaces[0])
    context = {"workspaces": workspaces, "invitations": invitations}
    return render(request, "portal/home.html", context)


@workspace_view()
@require_GET
def workspace_home(request: PortalRequest):
    workspace = request.workspace
    context = {
        "contact_count": workspace.contacts.count(),
        "member_count": workspace.memberships.count(),
        "recent_contacts": workspace.contacts.order_by("-created_at")[:5],
    }
    return render(request, "portal/workspace_home.html", context)
