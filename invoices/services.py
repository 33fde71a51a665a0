"""Writes for invoices, the payment process and work items."""

from __future__ import annotations

from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from invoices.models import Invoice, InvoiceLine, InvoicePayment, PaymentProcess, WorkItem
from invoices.selectors import work_item_payers
from portal.audit import audit_record
from portal.emails import email_send_each
from portal.models import AuditEntry
from portal.money import MAXIMUM_AMOUNT, format_amount


def invoice_save(
    *,
    workspace,
    contact,
    org_unit,
    currency: str,
    due_date,
    notes: str,
    lines: list[dict],
    invoice: Invoice | None = None,
) -> Invoice:
    """Create or edit a draft or open invoice; `lines` are dicts of description, quantity and
    unit_price (minor units). The number is the workspace's next one."""
    if not lines:
        raise ValidationError("An invoice needs at least one line.")
    total = sum(int(line["quantity"]) * int(line["unit_price"]) for line in lines)
    if total <= 0 or total > MAXIMUM_AMOUNT:
        raise ValidationError("The invoice total must be above zero and at most 8 digits.")
    for attempt in range(5):
        try:
            with transaction.atomic():
                invoice = _save(
                    workspace, invoice, contact, org_unit, currency, due_date, notes, total, lines
                )
            return invoice
        except IntegrityError:  # two invoices took the same number at once: take the next
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


def invoice_edit_refusal(invoice: Invoice) -> str:
    """Why `invoice` cannot be edited now, or "" if it can. Callers that go on to write must
    hold the invoice's row lock: a payment reserves its amount under the same lock, so one
    started at the same moment either comes first (and is seen here) or waits for the edit."""
    if invoice.status not in (Invoice.Status.DRAFT, Invoice.Status.OPEN):
        return "Only a draft or open invoice can be edited."
    if invoice.amount_paid:
        return "Part of this invoice is paid; it can no longer be edited."
    if _payment_in_flight(invoice):
        # Its amount and currency were fixed when it started: editing now would record it
        # against a different total (50.00 USD read as 5,000 JPY).
        return (
            "A payment of this invoice is under way; it can be edited once the payment has "
            "succeeded or failed."
        )
    return ""


def _payment_in_flight(invoice: Invoice) -> bool:
    """A payer's attempt still pending (also while Stripe waits for the customer:
    requires_action) or processing (ACH): its amount is reserved against the invoice."""
    return invoice.attempts.filter(
        status__in=[InvoicePayment.Status.PENDING, InvoicePayment.Status.PROCESSING]
    ).exists()


def _save(workspace, invoice, contact, org_unit, currency, due_date, notes, total, lines):
    if invoice is None:
        last = Invoice.objects.filter(workspace=workspace).aggregate(n=Max("number"))["n"] or 0
        invoice = Invoice(workspace=workspace, number=last + 1)
    else:
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if refusal := invoice_edit_refusal(invoice):
            raise ValidationError(refusal)
    invoice.contact, invoice.org_unit, invoice.currency = contact, org_unit, currency.lower()
    invoice.due_date, invoice.notes, invoice.total = due_date, notes, total
    invoice.save()
    invoice.lines.all().delete()
    InvoiceLine.objects.bulk_create(
        InvoiceLine(
            invoice=invoice,
            position=i,
            description=line["description"],
            quantity=int(line["quantity"]),
            unit_price=int(line["unit_price"]),
        )
        for i, line in enumerate(lines)
    )
    return invoice


def invoice_issue(*, invoice: Invoice) -> Invoice:
    """Draft -> open: it can be processed and paid."""
    updated = Invoice.objects.filter(pk=invoice.pk, status=Invoice.Status.DRAFT).update(
        status=Invoice.Status.OPEN
    )
    if not updated:
        raise ValidationError("Only a draft invoice can be issued.")
    invoice.refresh_from_db()
    return invoice


def invoice_void(*, invoice: Invoice, actor=None, address: str | None = None) -> Invoice:
    """Void the invoice and close its open work item. `actor` and `address` are who voided
    it, for the audit trail."""
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if locked.amount_paid or _payment_in_flight(locked):
            raise ValidationError("An invoice with payments cannot be voided; refund them first.")
        before = locked.status
        locked.status = Invoice.Status.VOID
        locked.save(update_fields=["status", "updated_at"])
        locked.work_items.filter(status=WorkItem.Status.OPEN).update(
            status=WorkItem.Status.CLOSED, closed_at=timezone.now()
        )
        if before != locked.status:
            _audit(
                locked,
                AuditEntry.Action.INVOICE_VOID,
                f"Voided {locked}",
                actor=actor,
                address=address,
                changes={"status": {"before": before, "after": locked.status}},
            )
    return locked


def _audit(invoice: Invoice, action: str, summary: str, *, actor, address, changes) -> None:
    total = format_amount(invoice.total, invoice.currency)
    audit_record(
        workspace=invoice.workspace,
        actor=actor,
        address=address,
        action=action,
        summary=f"{summary} ({total})",
        changes=changes,
        obj=invoice,
    )


def payment_process_save(*, workspace, assignee_name: str, org_unit, scope_type: str, role):
    if org_unit.workspace_id != workspace.pk or role.workspace_id != workspace.pk:
        raise ValidationError("The org unit and the role must be this workspace's.")
    process, _ = PaymentProcess.objects.update_or_create(
        workspace=workspace,
        defaults={
            "assignee_name": assignee_name.strip() or "Invoice payers",
            "org_unit": org_unit,
            "scope_type": scope_type,
            "role": role,
        },
    )
    return process


PAYABLE = (Invoice.Status.OPEN, Invoice.Status.PARTIALLY_PAID, Invoice.Status.PROCESSING)


def invoice_process(*, invoice: Invoice, actor=None, address: str | None = None) -> WorkItem:
    """Create the work item for the assignees, or bring back the open one: never two.
    `actor` and `address` are who processed it, for the audit trail (a new item only)."""
    process = PaymentProcess.objects.filter(workspace=invoice.workspace_id).first()
    if process is None:
        raise ValidationError(
            "Set the workspace's payment process first: who is assigned invoices to pay."
        )
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if locked.status not in PAYABLE:
            raise ValidationError(f"A {locked.get_status_display().lower()} invoice is not paid.")
        existing = locked.work_items.filter(status=WorkItem.Status.OPEN).first()
        if existing is not None:
            return existing
        try:
            with transaction.atomic():
                item = WorkItem.objects.create(
                    workspace=locked.workspace,
                    invoice=locked,
                    assignee_name=process.assignee_name,
                    org_unit=process.org_unit,
                    scope_type=process.scope_type,
                    role=process.role,
                )
                assignees = f"{process.assignee_name} at {process.org_unit.path}"
                _audit(
                    locked,
                    AuditEntry.Action.INVOICE_PROCESS,
                    f"Processed {locked} for {assignees}",
                    actor=actor,
                    address=address,
                    changes={"assigned to": {"before": None, "after": str(process)}},
                )
                # A new item only: its payers hear of it once the item surely exists.
                transaction.on_commit(
                    partial(work_item_payers_notify, item_pk=item.pk), robust=True
                )
                return item
        except IntegrityError:  # processed at the same moment elsewhere
            return locked.work_items.get(status=WorkItem.Status.OPEN)


def work_item_payers_notify(*, item_pk: int) -> int:
    """E-mail each payer of an open work item its invoice and a "View and pay" button, each at
    their own clock, once: the item is claimed (`notified_at`) before anything is sent, so a
    second call sends nothing. Nobody in scope: nothing sent, nothing claimed. The number sent."""
    item = WorkItem.objects.select_related("workspace", "invoice", "org_unit", "role").get(
        pk=item_pk
    )
    if item.status != WorkItem.Status.OPEN or item.notified_at is not None:
        return 0
    payers = work_item_payers(item)
    if not payers:
        return 0
    claimed = WorkItem.objects.filter(pk=item.pk, notified_at__isnull=True).update(
        notified_at=timezone.now()
    )
    if not claimed:
        return 0
    invoice, workspace = item.invoice, item.workspace
    amount = format_amount(invoice.total, invoice.currency, locale=workspace.locale)
    due = f" (due {date_format(invoice.due_date)})" if invoice.due_date else ""
    context = {
        "item": item,
        "invoice": invoice,
        "lines": list(invoice.lines.all()),
        "amount": amount,
        "url": settings.SITE_URL + reverse("work_item_pay", args=[workspace.slug, item.uuid]),
    }
    return email_send_each(
        "invoice",
        context,
        subject=f"{workspace.name} sent you invoice {invoice.display_number} for {amount}{due}",
        workspace=workspace,
        users=payers,
    )
