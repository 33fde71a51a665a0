from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from portal import perms
from portal.access import PortalRequest, workspace_view
from portal.forms import OrgUnitForm
from portal.services import org_unit_create, org_unit_update


@workspace_view(perms.WORKSPACE_MANAGE)
@require_GET
def org_unit_list(request: PortalRequest):
    """The tree, in path order (parents before children), indented by depth."""
    units = request.workspace.org_units.all()
    return render(request, "portal/org_units/list.html", {"units": units})


@workspace_view(perms.WORKSPACE_MANAGE)
@require_http_methods(["GET", "POST"])
def org_unit_edit(request: PortalRequest, unit_uuid=None):
    """Add a unit (no uuid) or rename and move one."""
    unit = None
    initial = {}
    if unit_uuid is not None:
        unit = get_object_or_404(request.workspace.org_units, uuid=unit_uuid)
        initial = {"name": unit.name, "parent": unit.parent}
    form = OrgUnitForm(
        request.POST or None, initial=initial, workspace=request.workspace, unit=unit
    )
    if request.method == "POST" and form.is_valid():
        try:
            if unit is None:
                saved = org_unit_create(workspace=request.workspace, **form.cleaned_data)
            else:
                saved = org_unit_update(unit=unit, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Org unit {saved.path} saved.")
            return redirect("org_unit_list", request.workspace.slug)
    return render(request, "portal/org_units/edit.html", {"form": form, "unit": unit})
