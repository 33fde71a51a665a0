from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from portal import perms
from portal.access import PortalRequest, workspace_view
from portal.audit import audit_by
from portal.forms import RoleForm
from portal.services import role_save


@workspace_view(perms.WORKSPACE_MANAGE)
@require_GET
def role_list(request: PortalRequest):
    roles = request.workspace.roles.all()
    return render(request, "portal/roles/list.html", {"roles": roles})


@workspace_view(perms.WORKSPACE_MANAGE)
@require_http_methods(["GET", "POST"])
def role_edit(request: PortalRequest, role_uuid=None):
    """Create a role (no uuid) or rename one and set its permissions."""
    role = None
    initial = {}
    if role_uuid is not None:
        role = get_object_or_404(request.workspace.roles, uuid=role_uuid)
        initial = {"name": role.name, "permissions": role.permissions}
    form = RoleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = role_save(
                workspace=request.workspace, role=role, **form.cleaned_data, **audit_by(request)
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Role {saved.name} saved.")
            return redirect("role_list", request.workspace.slug)
    return render(request, "portal/roles/edit.html", {"form": form, "role": role})
