"""Demo invoices in each state and an invoice payer ready to pay (part of `demo_data`).

Made through the services the staff and payer pages call. An invoice is found again by its
notes, each payment by its attempt token (uuid5 of the invoice), the payer's card and bank
account in Stripe: loading the demo again makes nothing twice.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.utils import timezone

from integrations.gateway.customers import cards_list, payment_method_attach
from integrations.gateway.errors import NOT_FOUND, GatewayError
from integrations.selectors import connection_credentials
from invoices.banks import bank_account_add, bank_account_verify, bank_accounts_for
from invoices.models import BankAccount, Invoice, PaymentProcess, WorkItem
from invoices.payments import invoice_pay_card, payer_customer, payer_customers_forget
from invoices.services import (
    invoice_issue,
    invoice_process,
    invoice_save,
    invoice_void,
    payment_process_save,
)

DEMO = uuid.UUID("0b7f5d2e-6c1a-4e8b-9a53-d3e0a0000002")

# notes (how the demo finds it again), lines (description, quantity, unit price in cents),
# what becomes of it: draft, open (processed: a work item to pay), paid so many cents, void.
INVOICES = [
    ("Lead fees for March.", [("Leads from the lead form", 10, 25_00)], "paid", 250_00),
    ("Lead fees for April.", [("Leads from the lead form", 16, 25_00)], "paid", 150_00),
    ("Lead fees for May.", [("Leads from the lead form", 12, 25_00)], "open", 0),
    ("Sent twice by mistake: see the March lead fees.",
     [("Leads from the lead form", 10, 25_00)], "void", 0),
    ("Ad campaign for June, to be confirmed.",
     [("Search ads", 1, 300_00), ("Landing page", 1, 150_00)], "draft", 0),
]  # fmt: skip

# Stripe's test bank account, verified by the microdeposits test mode sends (32 and 45 cents).
BANK = {"holder_name": "Pat Payer", "routing_number": "110000000", "account_number": "000123456789"}
DEPOSITS = (32, 45)


def demo_payment_process(*, workspace, org_unit, role) -> PaymentProcess:
    """Invoices are paid by the Invoice Payers of `org_unit` (payer@acme.test)."""
    existing = PaymentProcess.objects.filter(workspace=workspace).first()
    if existing is not None:
        return existing
    return payment_process_save(
        workspace=workspace,
        assignee_name="Invoice payers",
        org_unit=org_unit,
        scope_type="UNIT",
        role=role,
    )


def demo_payer_card(*, payer, connection) -> str:
    """The payer's saved card (a Visa they saved when paying before). A payer's customer the
    sandbox lost (its data file deleted) is forgotten, with its bank accounts, and made again."""
    credentials = connection_credentials(connection)
    customer = payer_customer(user=payer, connection=connection)
    try:
        cards = cards_list(credentials, customer_id=customer)
    except GatewayError as error:
        if error.code != NOT_FOUND:
            raise
        payer_customers_forget(connection=connection, customer_id=customer)
        customer = payer_customer(user=payer, connection=connection)
        cards = []
    if cards:
        return cards[0].id
    return payment_method_attach(
        credentials,
        customer_id=customer,
        payment_method="pm_card_visa",
        idempotency_key=f"demo:payer:{payer.pk}:card:{customer}",
        make_default=True,
    )


def demo_payer_bank(*, payer, connection) -> BankAccount:
    """The payer's US bank account, added and verified with its two microdeposits."""
    banks = bank_accounts_for(payer=payer, connection=connection)
    bank = banks[0] if banks else bank_account_add(payer=payer, connection=connection, **BANK)
    if bank.status == BankAccount.Status.PENDING:
        bank = bank_account_verify(bank=bank, amounts=DEPOSITS)
    return bank


def demo_invoices(*, workspace, contact, org_unit, payer, card: str, owner) -> list[Invoice]:
    """The demo invoices, each brought to its state (see INVOICES)."""
    made = []
    for position, (notes, lines, state, paid) in enumerate(INVOICES):
        invoice = Invoice.objects.filter(workspace=workspace, notes=notes).first()
        if invoice is None:
            invoice = invoice_save(
                workspace=workspace,
                contact=contact,
                org_unit=org_unit,
                currency="usd",
                due_date=timezone.localdate() + dt.timedelta(days=7 * position + 7),
                notes=notes,
                lines=[{"description": d, "quantity": q, "unit_price": p} for d, q, p in lines],
            )
        if state != "draft" and invoice.status == Invoice.Status.DRAFT:
            invoice = invoice_issue(invoice=invoice)
        if state == "void":
            if invoice.status != Invoice.Status.VOID:
                invoice = invoice_void(invoice=invoice, actor=owner)
        elif state in ("open", "paid"):
            item = invoice.work_items.filter(status=WorkItem.Status.OPEN).first()
            if item is None and not invoice.attempts.exists():
                item = invoice_process(invoice=invoice, actor=owner)
            if paid and item is not None and not invoice.attempts.exists():
                invoice_pay_card(
                    work_item=item,
                    payer=payer,
                    amount=paid,
                    payment_method_id=card,
                    attempt=uuid.uuid5(DEMO, f"pay:{invoice.uuid}"),
                )
            invoice.refresh_from_db()
        made.append(invoice)
    return made
