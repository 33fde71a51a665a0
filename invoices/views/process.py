"""The workspace's payment process (invoices=manage): who is assigned invoices to pay."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from invoices.forms import PaymentProcessForm
from invoices.models import PaymentProcess
from invoices.services import payment_process_save
from portal import perms
from portal.access import PortalRequest, workspace_view


@workspace_view(perms.INVOICES_MANAGE)
@require_http_methods(["GET", "POST"])
def payment_process_edit(request: PortalRequest):
    workspace = request.workspace
    process = (
        PaymentProcess.objects.filter(workspace=workspace)
        .select_related("org_unit", "role")
        .first()
    )
    initial = {
        "role": workspace.roles.filter(name=perms.INVOICE_PAYER)
        .values_list("uuid", flat=True)
        .first()
    }
    if process is not None:
        initial = {"assignee_name": process.assignee_name, "org_unit": process.org_unit.uuid,
                   "scope_type": process.scope_type, "role": process.role.uuid}  # fmt: skip
    data = request.POST if request.method == "POST" else None
    form = PaymentProcessForm(data, initial=initial, workspace=workspace)
    if request.method == "POST" and form.is_valid():
        try:
            process = payment_process_save(workspace=workspace, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            messages.success(request, "Payment process saved: new work items go to these payers.")
            return redirect("payment_process_edit", workspace.slug)
    return render(request, "invoices/process.html", {"form": form, "process": process})
