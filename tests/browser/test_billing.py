"""Charging customers in Chromium, with the sandbox's fake Stripe.js Card Element: a saved
card, a new card saved for later, a payment link paid by the customer, a decline then a retry."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.cache import cache
from playwright.sync_api import expect

from automation.models import Appointment
from billing.models import Payment
from billing.services.links import payment_link_create
from tests.automation.factories import AppointmentFactory, CalendarFactory


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    cache.clear()


@pytest.fixture
def bookings(workspace, contact):
    calendar = CalendarFactory(workspace=workspace, name="Teeth cleaning", price_amount=4999)
    return [AppointmentFactory(calendar=calendar, contact=contact) for _ in range(2)]


def _card(page, number: str) -> None:
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Expiration date").fill("12 / 34")
    page.get_by_label("CVC").fill("123")
    page.get_by_label("ZIP").fill("12345")


def _open_charge_page(page, live_server, login, staff, contact):
    login(page, staff)
    page.goto(f"{live_server.url}/w/acme/contacts/{contact.uuid}/")
    page.get_by_role("link", name="Charge customer").click()
    expect(page.get_by_role("heading", name="Charge Jane Cooper")).to_be_visible()


def test_staff_charges_a_saved_card(live_server, page, login, screenshot, staff, contact,
                                    stripe_client):  # fmt: skip
    _open_charge_page(page, live_server, login, staff, contact)
    visa = page.get_by_role("radio", name=re.compile(r"Visa •••• 4242"))
    expect(visa).to_be_checked()
    page.get_by_label("Amount").fill("49.99")
    page.get_by_label("Description").fill("Teeth cleaning")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text(re.compile(r"Charge \$49\.99 to Visa •••• 4242"))).to_be_visible()
    screenshot("billing-card-on-file-confirm")
    page.get_by_role("button", name="Yes, charge").click()

    expect(page.get_by_role("heading", name="Payment succeeded")).to_be_visible()
    screenshot("billing-card-on-file-success")
    page.get_by_role("link", name="See the payment").click()
    expect(page.get_by_role("heading", name=re.compile(r"\$49\.99"))).to_be_visible()
    expect(page.get_by_text("Up to $49.99 can be refunded.")).to_be_visible()
    screenshot("billing-payment-detail")
    page.get_by_role("navigation", name="Workspace").get_by_role("link", name="Payments").click()
    expect(page.locator("svg.bill-chart-svg")).to_be_visible()
    screenshot("billing-payments-list")
    payment = Payment.objects.get()
    assert (payment.status, payment.amount, payment.source) == ("succeeded", 4999, "card_on_file")
    assert len(stripe_client.v1.payment_intents.list().data) == 1


def test_staff_charges_a_new_card_and_saves_it(live_server, page, login, screenshot, staff,
                                               contact, stripe_client):  # fmt: skip
    _open_charge_page(page, live_server, login, staff, contact)
    page.get_by_role("link", name="New card").click()
    page.get_by_label("Amount").fill("30.00")
    page.get_by_label("Description").fill("Whitening")
    _card(page, "5555 5555 5555 4444")
    page.get_by_label("Save this card for future charges").check()
    screenshot("billing-new-card-form")
    page.get_by_role("button", name="Charge card").click()

    expect(page.get_by_role("heading", name="Payment succeeded")).to_be_visible()
    screenshot("billing-new-card-result")
    assert Payment.objects.get().status == "succeeded"

    page.get_by_role("link", name="Charge Jane Cooper again").click()
    expect(page.get_by_role("radio", name=re.compile(r"Mastercard •••• 4444"))).to_be_visible()
    screenshot("billing-new-card-on-file")


def _pay_path(body: str) -> str:
    return re.search(r"/pay/[A-Za-z0-9_-]+/", body).group(0)


def test_a_link_is_sent_paid_by_the_customer_and_the_booking_is_charged_in_full(
    live_server, page, login, screenshot, staff, contact, bookings, stripe_client
):
    _open_charge_page(page, live_server, login, staff, contact)
    page.get_by_role("link", name="Send payment link").click()
    page.get_by_role("checkbox", name=re.compile("Teeth cleaning")).first.check()
    page.get_by_role("button", name="Use their total").click()
    expect(page.get_by_label("Amount")).to_have_value("49.99")
    page.get_by_label("Description").fill("Your cleaning visit")
    screenshot("billing-link-form")
    page.get_by_role("button", name="Preview the e-mail").click()

    expect(page.get_by_role("heading", name="Preview of the e-mail")).to_be_visible()
    expect(page.get_by_text("Acme: payment request of $49.99")).to_be_visible()
    screenshot("billing-link-preview")
    assert mail.outbox == []
    page.get_by_role("button", name="Send the e-mail").click()
    expect(page.get_by_text("Payment link sent to jane@example.com.")).to_be_visible()
    assert len(mail.outbox) == 1

    # The customer, from the e-mail.
    page.context.clear_cookies()
    page.goto(live_server.url + _pay_path(mail.outbox[0].body))
    expect(page.get_by_role("heading", name="Pay $49.99")).to_be_visible()
    expect(page.get_by_text("Your cleaning visit")).to_be_visible()
    _card(page, "4242 4242 4242 4242")
    screenshot("billing-pay-page")
    page.get_by_role("button", name="Pay $49.99").click()

    expect(page.get_by_role("heading", name="Payment successful")).to_be_visible()
    screenshot("billing-pay-done")
    booking = Appointment.objects.get(pk=bookings[0].pk)
    assert booking.get_payment_status_display() == "Charged in Full"
    assert Appointment.objects.get(pk=bookings[1].pk).payment_status == "unpaid"

    login(page, staff)
    page.goto(f"{live_server.url}{booking.get_absolute_url()}")
    expect(page.get_by_text("Charged in Full")).to_be_visible()


def test_a_declined_customer_sees_why_and_pays_with_another_card(
    live_server, page, screenshot, workspace, connection, contact, stripe_client
):
    link = payment_link_create(workspace=workspace, contact=contact, amount=2500,
                               currency="usd", description="Consultation")  # fmt: skip
    page.goto(live_server.url + link.get_absolute_url())
    _card(page, "4000 0000 0000 0002")
    page.get_by_role("button", name="Pay $25.00").click()

    alert = page.locator("[data-pay-error]")
    expect(alert).to_contain_text("Your card was declined.")
    screenshot("billing-pay-declined")

    _card(page, "4242 4242 4242 4242")
    page.get_by_role("button", name="Pay $25.00").click()
    expect(page.get_by_role("heading", name="Payment successful")).to_be_visible()
    assert len(stripe_client.v1.payment_intents.list().data) == 1  # the same intent, retried
    assert Payment.objects.get().status == "succeeded"
