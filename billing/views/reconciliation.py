"""The reconciliation page (owners): PaymentIntents not applied, the last runs of the job and
what they found; Run now."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from billing.reconcile import reconcile_workspace
from portal import perms
from portal.access import PortalRequest, workspace_view
from portal.pagination import paginate

MISMATCHES = 50  # the newest


@workspace_view(perms.WORKSPACE_MANAGE)
@require_GET
def reconciliation_list(request: PortalRequest):
    # The connection's name only: its secret key is decrypted on load, for nothing here.
    runs = request.workspace.reconciliation_runs.select_related("connection").defer(
        "connection__secret_key"
    )
    # PaymentIntents that named a payment without matching it, from webhooks as well as runs.
    mismatches = request.workspace.intent_mismatches.select_related("payment")[:MISMATCHES]
    context = {"page": paginate(request, runs), "mismatches": mismatches}
    return render(request, "billing/reconciliation.html", context)


@workspace_view(perms.WORKSPACE_MANAGE)
@require_POST
def reconciliation_run(request: PortalRequest):
    """Reconcile the workspace's connections now, in the request (a few Stripe calls each)."""
    reports = reconcile_workspace(workspace=request.workspace, origin=request.user.get_username())
    if not reports:
        messages.error(request, "Connect a working Stripe account first.")
    for report in reports:
        text = f"{report.connection}: {report.summary()}."
        (messages.error if report.error else messages.success)(request, text)
    return redirect(reverse("reconciliation_list", args=[request.workspace.slug]))
