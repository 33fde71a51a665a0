"""The workspace's settings (owners): whether owners hear about payments, whether members who
can move money must use two-factor sign-in."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from billing.forms import WorkspaceSettingsForm
from portal import perms
from portal.access import PortalRequest, workspace_view


@workspace_view(perms.WORKSPACE_MANAGE)
@require_http_methods(["GET", "POST"])
def workspace_settings(request: PortalRequest):
    # An unticked box posts nothing: bind on the method, not on the data.
    data = request.POST if request.method == "POST" else None
    form = WorkspaceSettingsForm(data, instance=request.workspace)
    if request.method == "POST" and form.is_valid():
        form.instance.save(update_fields=WorkspaceSettingsForm.Meta.fields)
        messages.success(request, "Settings saved.")
        return redirect("workspace_settings", request.workspace.slug)
    return render(request, "billing/settings.html", {"form": form})
