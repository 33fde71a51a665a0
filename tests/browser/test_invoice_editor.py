"""Staff write an invoice in Chromium: "Add a line" adds a row in place, the total follows
what is typed in the invoice's currency (three decimals for KWD), and the saved invoice has
the lines and the total shown."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from invoices.models import Invoice
from tests.factories import ContactFactory


@pytest.mark.django_db(transaction=True)
def test_lines_are_added_in_place_and_the_total_follows(page, live_server, login, owner, workspace):
    ContactFactory(workspace=workspace, name="Bright Smiles Dental")
    login(page, owner)
    page.goto(f"{live_server.url}/w/acme/invoices/new/")
    page.get_by_label("Client").select_option(label="Bright Smiles Dental")
    page.get_by_label("Currency").select_option("KWD")
    page.get_by_label("Description (line 1)").fill("Qualified lead")
    page.get_by_label("Quantity (line 1)").fill("3")
    page.get_by_label("Unit price (line 1)").fill("12.5")
    total = page.locator("[data-live-total]")
    expect(total).to_have_text("Total: KWD\xa037.500")

    url = page.url
    page.get_by_role("button", name="Add a line").click()
    assert page.url == url  # no round trip: what was typed is still there
    expect(page.get_by_label("Description (line 1)")).to_have_value("Qualified lead")
    page.get_by_label("Description (line 2)").fill("Setup")
    page.get_by_label("Unit price (line 2)").fill("1,000.120")
    expect(total).to_have_text("Total: KWD\xa01,037.620")
    page.get_by_label("Unit price (line 2)").fill("ten")
    expect(total).to_contain_text("not a number yet")
    page.get_by_label("Unit price (line 2)").fill("1000.120")

    page.get_by_role("button", name="Save invoice").click()
    expect(page.get_by_text("saved.")).to_be_visible()
    invoice = Invoice.objects.get()
    assert (invoice.currency, invoice.total) == ("kwd", 1_037_620)
    assert [line.description for line in invoice.lines.order_by("position")] == [
        "Qualified lead",
        "Setup",
    ]
