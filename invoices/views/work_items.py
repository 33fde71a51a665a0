"""The payers' inbox (stripe=pay): only the work items `work_items_for` gives the user."""

from __future__ import annotations

from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from invoices.models import WorkItem
from invoices.payments import available_to_pay
from invoices.selectors import work_items_for
from portal import perms
from portal.access import PortalRequest, workspace_view
from portal.pagination import paginate

RECENTLY_CLOSED = 10


def assigned_item(request: PortalRequest, item_uuid) -> WorkItem:
    """The work item if the user is one of its assignees; 404 otherwise (as for outsiders)."""
    items = work_items_for(request.user, request.workspace).select_related("invoice__workspace")
    item = get_object_or_404(items, uuid=item_uuid)
    item.workspace = request.workspace
    return item


@workspace_view(perms.STRIPE_PAY)
@require_GET
def work_item_list(request: PortalRequest):
    items = work_items_for(request.user, request.workspace)
    page = paginate(request, items.filter(status=WorkItem.Status.OPEN))
    closed = list(
        items.filter(status=WorkItem.Status.CLOSED).order_by("-closed_at")[:RECENTLY_CLOSED]
    )
    for item in [*page.object_list, *closed]:
        item.workspace = request.workspace  # for their URLs, without a query each
    context = {"page": page, "closed": closed}
    return render(request, "invoices/work_items/list.html", context)


@workspace_view(perms.STRIPE_PAY)
@require_GET
def work_item_detail(request: PortalRequest, item_uuid):
    item = assigned_item(request, item_uuid)
    context = {
        "item": item,
        "invoice": item.invoice,
        "lines": item.invoice.lines.all(),
        "attempts": item.attempts.select_related("payer"),
        "available": available_to_pay(item.invoice),
    }
    return render(request, "invoices/work_items/detail.html", context)
