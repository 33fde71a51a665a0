"""An invoice payer in Chromium: pays part of an invoice with a new card saved for later, then
the rest with the saved card; and pays by bank account (ACH) after verifying it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from billing.services.charges import payment_refresh
from invoices.models import Invoice, InvoicePayment, ScopeType, WorkItem
from invoices.services import invoice_issue, invoice_process, invoice_save, payment_process_save
from portal import perms
from tests.factories import ContactFactory


@pytest.fixture
def work_item(workspace, org_units, connection):
    payment_process_save(
        workspace=workspace,
        assignee_name="Invoice payers",
        org_unit=org_units["/acme/Branch A"],
        scope_type=ScopeType.UNIT,
        role=workspace.roles.get(name=perms.INVOICE_PAYER),
    )
    invoice = invoice_save(
        workspace=workspace,
        contact=ContactFactory(workspace=workspace, name="Bright Smiles Dental"),
        org_unit=org_units["/acme/Branch A"],
        currency="usd",
        due_date=None,
        notes="Leads of November",
        lines=[
            {"description": "Qualified lead", "quantity": 10, "unit_price": 1500},
            {"description": "Campaign setup", "quantity": 1, "unit_price": 5000},
        ],
    )
    return invoice_process(invoice=invoice_issue(invoice=invoice))


def _open_item(page, live_server):
    page.goto(f"{live_server.url}/w/acme/")
    page.get_by_role("navigation", name="Workspace").get_by_role("link", name="To pay").click()
    expect(page.get_by_role("heading", name="To pay")).to_be_visible()
    page.get_by_role("link", name="INV-00001").click()
    expect(page.get_by_role("heading", name="Invoice INV-00001")).to_be_visible()


def test_payer_pays_part_with_a_new_saved_card_then_the_rest_with_it(
    live_server, page, login, screenshot, payer, work_item
):
    login(page, payer)
    _open_item(page, live_server)
    screenshot("invoices-work-item")
    page.get_by_role("link", name="Pay", exact=True).click()
    expect(page.get_by_label("Amount (USD)")).to_have_value("200.00")
    expect(page.get_by_label("A new card")).to_be_checked()
    page.get_by_label("Amount (USD)").fill("80.00")
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_label("Expiration date").fill("12 / 34")
    page.get_by_label("CVC").fill("123")
    page.get_by_label("ZIP").fill("10001")
    page.get_by_label("Save this card for next time").check()
    screenshot("invoices-pay-new-card")
    page.get_by_role("button", name="Pay", exact=True).click()

    expect(page.get_by_text("Paid $80.00. The invoice is now Partially paid.")).to_be_visible()
    expect(page.get_by_test_id("outstanding")).to_have_text("$120.00")
    screenshot("invoices-partially-paid")

    page.get_by_role("link", name="Pay", exact=True).click()
    saved = page.get_by_label(re.compile(r"Visa •••• 4242, expires 12/2034"))
    expect(saved).to_be_checked()
    expect(page.get_by_label("Amount (USD)")).to_have_value("120.00")
    expect(page.locator("[data-card-element]")).to_be_hidden()  # only for a new card
    screenshot("invoices-pay-saved-card")
    page.get_by_role("button", name="Pay", exact=True).click()

    expect(page.get_by_text("Paid $120.00. The invoice is now Paid.")).to_be_visible()
    expect(page.get_by_test_id("work-item-state")).to_have_text("Work item closed: Paid")
    expect(page.get_by_role("link", name="Pay", exact=True)).to_have_count(0)
    screenshot("invoices-paid")
    invoice = Invoice.objects.get()
    assert (invoice.status, invoice.amount_paid) == ("paid", 20000)
    assert WorkItem.objects.get().status == "closed"


def test_payer_pays_by_verified_bank_account_and_it_settles(
    live_server, page, login, screenshot, payer, work_item, sandbox
):
    login(page, payer)
    _open_item(page, live_server)
    page.get_by_role("link", name="Pay", exact=True).click()
    page.get_by_text("Add a bank account").click()
    page.get_by_label("Account holder name").fill("Pat Payer")
    page.get_by_label("Routing number").fill("110000000")
    page.get_by_label("Account number").fill("000123456789")
    page.get_by_role("button", name="Add bank account").click()
    expect(page.get_by_text("Stripe sends two small deposits to it")).to_be_visible()

    page.get_by_label("First deposit (cents)").fill("10")
    page.get_by_label("Second deposit (cents)").fill("11")
    page.get_by_role("button", name="Verify").click()
    expect(page.locator(".inv-verify .form-errors")).to_be_visible()
    screenshot("invoices-ach-verify-failed")
    page.get_by_label("First deposit (cents)").fill("32")
    page.get_by_label("Second deposit (cents)").fill("45")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_text("is verified: you can pay with it")).to_be_visible()

    page.get_by_label("Bank account (ACH)").check()
    page.get_by_label(re.compile(r"•••• 6789")).check()
    screenshot("invoices-ach-pay")
    page.get_by_role("button", name="Pay", exact=True).click()
    expect(page.get_by_text("bank payments take a few business days")).to_be_visible()
    expect(page.locator(".inv-summary .inv-status")).to_have_text("Payment processing")
    screenshot("invoices-ach-processing")

    attempt = InvoicePayment.objects.get()
    sandbox.control.ach_settle(attempt.payment.stripe_payment_intent_id)
    payment_refresh(payment=attempt.payment, via="test")
    page.reload()
    expect(page.locator(".inv-summary .inv-status")).to_have_text("Paid")
    expect(page.get_by_test_id("work-item-state")).to_have_text("Work item closed: Paid")
    screenshot("invoices-ach-paid")
