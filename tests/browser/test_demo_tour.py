"""The README's five-minute tour in Chromium, on the demo data `python3 dev.py` loads: the owner
sees the Stripe account's balance and payout bank account, a payment with a refund and the
failed run of a declined booking; the invoice payer logs in and finds an invoice to pay."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

import dev
from portal.management.commands.demo_data import PASSWORD


@pytest.fixture
def demo(sandbox, monkeypatch, transactional_db):
    """What `python3 dev.py` does: register the demo keys, then load the demo data."""
    sandbox.control.register_key(
        dev.DEMO_STRIPE_SECRET_KEY,
        publishable_key=dev.DEMO_STRIPE_PUBLISHABLE_KEY,
        account=dev.DEMO_STRIPE_ACCOUNT,
    )
    monkeypatch.setenv("DEMO_STRIPE_SECRET_KEY", dev.DEMO_STRIPE_SECRET_KEY)
    monkeypatch.setenv("DEMO_STRIPE_PUBLISHABLE_KEY", dev.DEMO_STRIPE_PUBLISHABLE_KEY)
    call_command("demo_data", stdout=io.StringIO())


def _log_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def _menu(page, name: str) -> None:
    menu = page.get_by_role("navigation", name="Workspace")
    menu.get_by_role("link", name=name, exact=True).click()


def test_the_readme_tour_on_the_demo_data(live_server, page, screenshot, demo):
    # 1. The owner opens Acme Dental's Stripe page: balance and payout bank account.
    _log_in(page, live_server, "owner@agency.test")
    page.get_by_role("link", name="Acme Dental").click()
    _menu(page, "Stripe")
    balance = page.locator("table", has=page.get_by_role("columnheader", name="Pending"))
    # Cleaning 120 + whitening kit 60 less 20 refunded + consultation 80 + lead fee 25 + the
    # invoice payments 250 and 150: pending until Stripe settles them.
    expect(balance.get_by_role("row").nth(1)).to_contain_text(re.compile(r"665\.00"))
    banks = page.locator("table", has=page.get_by_role("columnheader", name="Bank"))
    expect(banks.get_by_role("row").nth(1)).to_contain_text(
        re.compile(r"STRIPE TEST BANK.*6789.*Verified", re.S)
    )
    screenshot("demo-tour-stripe")

    # 2. Payments: the whitening kit was refunded in part; its page shows the refund.
    _menu(page, "Payments")
    kit = page.get_by_role("row").filter(has_text="Teeth whitening kit")
    expect(kit).to_contain_text("partially refunded")
    expect(page.get_by_role("row").filter(has_text="Declan Ross")).to_contain_text("Failed")
    screenshot("demo-tour-payments")
    kit.get_by_role("link").first.click()
    expect(page.get_by_text(re.compile(r"Refunded .*20\.00"))).to_be_visible()
    screenshot("demo-tour-refund")

    # 3. Workflows: the booking workflow's last run failed on Declan's declined card.
    _menu(page, "Workflows")
    row = page.get_by_role("row").filter(has_text="Charge cleaning bookings")
    expect(row).to_contain_text("Failed")
    row.get_by_role("link", name="Charge cleaning bookings").click()
    page.get_by_role("link", name="Enrollment history").click()
    declan = page.get_by_role("row").filter(has_text="Declan Ross")
    expect(declan).to_contain_text("Failed")
    declan.get_by_role("link").first.click()
    expect(page.get_by_role("button", name="Retry from the failed step")).to_be_visible()
    expect(page.get_by_text("Your card was declined.").first).to_be_visible()
    screenshot("demo-tour-failed-run")

    # 4. The invoice payer logs in (straight into their one workspace): the May lead fees are
    # waiting to be paid.
    page.context.clear_cookies()
    _log_in(page, live_server, "payer@acme.test")
    expect(page.get_by_role("heading", name="Acme Dental")).to_be_visible()
    _menu(page, "To pay")
    may = page.get_by_role("row").filter(has_text="INV-00003")
    expect(may).to_contain_text("Open")
    expect(may).to_contain_text(re.compile(r"300\.00"))
    expect(page.get_by_role("row").filter(has_text="INV-00002")).to_contain_text("Partially paid")
    screenshot("demo-tour-payer-to-pay")
    may.get_by_role("link", name="INV-00003").click()
    expect(page.get_by_role("link", name="Pay", exact=True)).to_be_visible()
    screenshot("demo-tour-payer-invoice")
