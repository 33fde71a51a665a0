"""The audit trail of invoices: processing one into a work item, voiding one, and a payer's
payment (recorded when its payment is created); refusals record nothing."""

from __future__ import annotations

import uuid

from django.urls import reverse

from invoices.models import Invoice
from invoices.payments import payer_customer
from invoices.services import invoice_void
from portal.models import AuditEntry
from tests.audit_helpers import CLIENT_ADDRESS, entries, only

Action = AuditEntry.Action


def _url(name, invoice):
    return reverse(name, args=["acme", invoice.uuid])


def test_processing_records_who_and_for_whom_once(invoice, staff, as_user):
    client = as_user(staff)
    client.post(_url("invoice_process", invoice))
    client.post(_url("invoice_process", invoice))  # the open work item again: no change

    entry = only(Action.INVOICE_PROCESS)
    assert (entry.actor, entry.address) == (staff, CLIENT_ADDRESS)
    assert entry.summary == (
        "Processed Invoice INV-00001 for Invoice payers at /acme/Branch A ($200.00)"
    )
    assert entry.changes["assigned to"]["after"].startswith('<Assignee name="Invoice payers"')
    assert (entry.object_type, entry.object_id) == ("invoices.invoice", str(invoice.uuid))


def test_processing_a_void_invoice_is_refused_and_records_nothing(invoice, staff, as_user):
    invoice_void(invoice=invoice)
    as_user(staff).post(_url("invoice_process", invoice))
    assert entries(Action.INVOICE_PROCESS) == []


def test_voiding_records_the_status_change(work_item, staff, as_user):
    as_user(staff).post(_url("invoice_void", work_item.invoice))

    entry = only(Action.INVOICE_VOID)
    assert (entry.actor, entry.address) == (staff, CLIENT_ADDRESS)
    assert entry.summary == "Voided Invoice INV-00001 ($200.00)"
    assert entry.changes == {"status": {"before": "open", "after": "void"}}


def test_an_invoice_with_a_payment_cannot_be_voided_and_nothing_is_recorded(
    work_item, payer, staff, as_user, sandbox, connection
):
    customer = payer_customer(user=payer, connection=connection)
    card = sandbox.client(connection.secret_key).v1.payment_methods.attach(
        "pm_card_visa", params={"customer": customer}
    )
    as_user(payer).post(
        reverse("work_item_pay", args=["acme", work_item.uuid]),
        {"action": "pay", "attempt": str(uuid.uuid4()), "amount": "80", "method": "card",
         "payment_method": card.id},
    )  # fmt: skip
    as_user(staff).post(_url("invoice_void", work_item.invoice))
    assert Invoice.objects.get().status == Invoice.Status.PARTIALLY_PAID
    assert entries(Action.INVOICE_VOID) == []

    paid = only(Action.PAYMENT_CHARGE)  # the payer's payment, by the payer, from their address
    assert (paid.actor, paid.address) == (payer, CLIENT_ADDRESS)
    assert paid.summary == "Charge of $80.00 to Acme Branch A clinic (invoice)"
