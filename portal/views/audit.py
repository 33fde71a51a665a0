"""The audit log (owners: `workspace=manage`): who moved money or changed who can."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal import perms
from portal.access import PortalRequest, workspace_view
from portal.audit import audit_entries_filtered, audit_people
from portal.audit_forms import AuditFilterForm
from portal.pagination import paginate


@workspace_view(perms.WORKSPACE_MANAGE)
@require_GET
def audit_log(request: PortalRequest):
    """Newest first, filtered by action, person and days (of the viewer's zone)."""
    filters = AuditFilterForm(request.GET, people=audit_people(request.workspace))
    data = filters.cleaned_data if filters.is_valid() else {}
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filters": filters,
        "page": paginate(request, audit_entries_filtered(request.workspace, data)),
        # The filters again for the pagination links (without the page number).
        "query_string": query.urlencode(),
    }
    return render(request, "portal/audit/list.html", context)
