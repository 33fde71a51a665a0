from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from portal.access import PortalRequest, member_workspaces, workspace_view


@login_required
@require_GET
def home(request: PortalRequest):
    """The workspace switcher as a page; a single workspace opens directly."""
    workspaces = list(member_workspaces(request.user))
    if len(workspaces) == 1:
        return redirect(workspaces[0])
    return render(request, "portal/home.html", {"workspaces": workspaces})


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
