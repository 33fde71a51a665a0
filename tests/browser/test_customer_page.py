"""The customer page in Chromium: Contacts -> a customer -> bookings, payments, saved cards ->
Remove a card (confirmed) -> it is gone -> Charge customer opens the charge page for them."""

from __future__ import annotations

import datetime as dt
import re

from django.utils import timezone
from playwright.sync_api import expect

from billing.models import Payment, Refund
from tests.automation.factories import AppointmentFactory, CalendarFactory
from tests.billing.conftest import attach


def _history(workspace, contact):
    """Two bookings (the sooner one paid, then partly refunded) and the payment."""
    calendar = CalendarFactory(workspace=workspace, name="Teeth cleaning", price_amount=4999)
    start = timezone.now().replace(minute=0, second=0, microsecond=0) + dt.timedelta(days=2)
    paid = AppointmentFactory(calendar=calendar, contact=contact, starts_at=start,
                              payment_status="charged_in_full")  # fmt: skip
    AppointmentFactory(calendar=calendar, contact=contact, starts_at=start + dt.timedelta(days=7))
    payment = Payment.objects.create(
        workspace=workspace, contact=contact, source="card_on_file", idempotency_key="journey",
        amount=4999, currency="usd", status="succeeded", amount_refunded=1000,
        description="Teeth cleaning",
    )  # fmt: skip
    payment.appointments.add(paid)
    Refund.objects.create(payment=payment, amount=1000, status="succeeded", reason="Late start")


def test_staff_see_a_customer_remove_a_card_and_charge_them(
    live_server, page, login, screenshot, workspace, staff, contact, stripe_client
):
    mastercard = attach(stripe_client, contact, "pm_card_mastercard")
    _history(workspace, contact)
    login(page, staff)

    page.get_by_role("navigation", name="Workspace").get_by_role("link", name="Contacts").click()
    page.get_by_role("link", name="Jane Cooper").click()
    expect(page.get_by_role("heading", name="Jane Cooper", level=1)).to_be_visible()

    bookings = page.locator("#bookings")
    expect(bookings.get_by_role("row")).to_have_count(3)
    expect(bookings.get_by_role("link", name="Charged, partly refunded")).to_be_visible()
    expect(bookings.get_by_text("Unpaid")).to_be_visible()
    payments = page.locator("#payments")
    expect(payments.get_by_text("Succeeded", exact=True)).to_be_visible()
    expect(payments.get_by_text("partially refunded")).to_be_visible()
    expect(payments.get_by_text(re.compile(r"Late start"))).to_be_visible()
    cards = page.locator("#cards")
    expect(cards.get_by_text("Visa •••• 4242")).to_be_visible()
    expect(cards.get_by_text("Mastercard •••• 4444")).to_be_visible()
    screenshot("customer-page")

    cards.get_by_role("link", name="Remove Mastercard •••• 4444").click()
    expect(page.get_by_role("heading", name="Remove Mastercard •••• 4444?")).to_be_visible()
    screenshot("customer-card-remove-confirm")
    page.get_by_role("button", name="Remove the card").click()

    expect(page.get_by_text("Mastercard •••• 4444 removed")).to_be_visible()
    expect(page.locator("#cards").get_by_text("Mastercard •••• 4444")).to_have_count(0)
    expect(page.locator("#cards").get_by_text("Visa •••• 4242")).to_be_visible()
    screenshot("customer-card-removed")
    assert stripe_client.v1.payment_methods.retrieve(mastercard).customer is None

    page.get_by_role("link", name="Charge customer").click()
    expect(page.get_by_role("heading", name="Charge Jane Cooper")).to_be_visible()
    expect(page.get_by_role("radio", name=re.compile(r"Visa •••• 4242"))).to_be_checked()
    expect(page.get_by_text("Mastercard •••• 4444")).to_have_count(0)
    screenshot("customer-charge-page")
