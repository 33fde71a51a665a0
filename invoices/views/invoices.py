"""Invoices (staff with invoices=manage): list, create and edit, detail, its actions, print."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from invoices.forms import InvoiceFilterForm, InvoiceForm, LineFormSet, line_initial
from invoices.models import Invoice, ScopeType, WorkItem
from invoices.selectors import work_item_payers
from invoices.services import (
    invoice_edit_refusal,
    invoice_issue,
    invoice_process,
    invoice_save,
    invoice_void,
)
from portal import perms
from portal.access import PortalRequest, workspace_view
from portal.audit import audit_by
from portal.money import CURRENCIES, exponent
from portal.pagination import paginate


def _invoice(request: PortalRequest, invoice_uuid) -> Invoice:
    invoices = request.workspace.invoices.select_related("contact", "org_unit", "workspace")
    return get_object_or_404(invoices, uuid=invoice_uuid)


@workspace_view(perms.INVOICES_MANAGE)
@require_GET
def invoice_list(request: PortalRequest):
    filters = InvoiceFilterForm(request.GET)
    status = filters.cleaned_data["status"] if filters.is_valid() else ""
    invoices = request.workspace.invoices.select_related("contact")
    if status:
        invoices = invoices.filter(status=status)
    context = {"page": paginate(request, invoices), "filters": filters, "status": status}
    return render(request, "invoices/list.html", context)


@workspace_view(perms.INVOICES_MANAGE)
@require_http_methods(["GET", "POST"])
def invoice_edit(request: PortalRequest, invoice_uuid=None):
    """Create (no uuid) or edit; "Add a line" re-renders with one more empty row."""
    invoice = _invoice(request, invoice_uuid) if invoice_uuid else None
    form, lines = _forms(request, invoice)
    if request.method == "POST" and "add_line" not in request.POST:
        if form.is_valid() and lines.is_valid():
            try:
                invoice = invoice_save(
                    workspace=request.workspace, invoice=invoice, lines=lines.lines,
                    **form.cleaned_data,
                )  # fmt: skip
            except ValidationError as error:
                form.add_error(None, error.messages)
            else:
                messages.success(request, f"{invoice} saved.")
                return redirect(invoice)
    # Said before anyone types: the save would be refused for the same reason (under the lock).
    refusal = invoice_edit_refusal(invoice) if invoice and not form.non_field_errors() else ""
    context = {"invoice": invoice, "form": form, "lines": lines, "refusal": refusal,
               "currency_exponents": {code: exponent(code) for code in CURRENCIES}}  # fmt: skip
    return render(request, "invoices/edit.html", context)


def _forms(request: PortalRequest, invoice: Invoice | None):
    workspace = request.workspace
    if request.method == "POST":
        form = InvoiceForm(request.POST, workspace=workspace)
        currency = request.POST.get("currency", "USD")
        lines = LineFormSet(request.POST, prefix="lines", currency=currency)
        if "add_line" in request.POST:  # back to unbound forms with what was typed, no errors
            form = InvoiceForm(initial=_raw(form), workspace=workspace)
            rows = [_raw(line) for line in lines.forms]
            lines = LineFormSet(initial=rows, prefix="lines", currency=currency)
        return form, lines
    initial = InvoiceForm.initial_for(invoice) if invoice else {}
    rows = line_initial(invoice) if invoice else []
    return (
        InvoiceForm(initial=initial, workspace=workspace),
        LineFormSet(initial=rows, prefix="lines"),
    )


def _raw(form) -> dict:
    return {name: form[name].value() for name in form.fields if name != "DELETE"}


@workspace_view(perms.INVOICES_MANAGE)
@require_GET
def invoice_detail(request: PortalRequest, invoice_uuid):
    invoice = _invoice(request, invoice_uuid)
    context = {
        "invoice": invoice,
        "lines": invoice.lines.all(),
        "work_items": invoice.work_items.select_related("org_unit", "role"),
        "attempts": invoice.attempts.select_related("payer", "work_item"),
        "has_open_item": invoice.work_items.filter(status=WorkItem.Status.OPEN).exists(),
    }
    return render(request, "invoices/detail.html", context)


@workspace_view(perms.INVOICES_MANAGE)
@require_POST
def invoice_issue_view(request: PortalRequest, invoice_uuid):
    invoice = _invoice(request, invoice_uuid)
    try:
        invoice_issue(invoice=invoice)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, f"{invoice} issued: it can now be processed and paid.")
    return redirect(invoice)


@workspace_view(perms.INVOICES_MANAGE)
@require_POST
def invoice_process_view(request: PortalRequest, invoice_uuid):
    """Process, or reprocess: the open work item comes back rather than a second one."""
    invoice = _invoice(request, invoice_uuid)
    had_open = invoice.work_items.filter(status=WorkItem.Status.OPEN).exists()
    try:
        item = invoice_process(invoice=invoice, **audit_by(request))
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return redirect(invoice)
    if had_open:
        messages.success(request, "The open work item is back in the payers' inbox.")
    else:
        messages.success(
            request, f"Work item created for {item.assignee_name} ({item.org_unit.path})."
        )
    if not work_item_payers(item):
        below = " or a unit below it" if item.scope_type == ScopeType.TREE else ""
        messages.warning(
            request,
            f"No payer would be notified: nobody holds the {item.role.name} role in "
            f"{item.org_unit.path}{below}.",
        )
    return redirect(invoice)


@workspace_view(perms.INVOICES_MANAGE)
@require_http_methods(["GET", "POST"])
def invoice_void_view(request: PortalRequest, invoice_uuid):
    """A confirmation page; the POST voids the invoice and closes its open work item."""
    invoice = _invoice(request, invoice_uuid)
    if request.method == "POST":
        try:
            invoice_void(invoice=invoice, **audit_by(request))
        except ValidationError as error:
            messages.error(request, error.messages[0])
        else:
            messages.success(request, f"{invoice} is void: it can no longer be paid.")
        return redirect(invoice)
    return render(request, "invoices/void.html", {"invoice": invoice})


@workspace_view(perms.INVOICES_MANAGE)
@require_GET
def invoice_print(request: PortalRequest, invoice_uuid):
    invoice = _invoice(request, invoice_uuid)
    context = {"invoice": invoice, "lines": invoice.lines.all()}
    return render(request, "invoices/print.html", context)
