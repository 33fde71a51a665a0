"""Money as people read it, in Chromium: an owner picks German on Settings -> General; the
payments page, the customer's pay page and the payment-link e-mail then write amounts the
German way ("1.234,50 €"), and a list mixing currencies names each ISO code."""

from __future__ import annotations

import datetime as dt
import uuid

from django.utils import timezone
from playwright.sync_api import expect

from billing.models import Payment, PaymentLink
from billing.services.links import payment_link_email
from tests.factories import ContactFactory

NB = "\xa0"


def _payment(workspace, contact, amount, currency):
    return Payment.objects.create(
        workspace=workspace, contact=contact, source="card_on_file", amount=amount,
        currency=currency, status="succeeded", idempotency_key=f"test:{uuid.uuid4()}",
        description="Teeth cleaning",
    )  # fmt: skip


def test_an_owner_chooses_german_and_pages_and_emails_write_amounts_the_german_way(
    live_server, page, login, screenshot, owner, workspace
):
    jane = ContactFactory(workspace=workspace, name="Jane Cooper", email="jane@example.com")
    _payment(workspace, jane, 123450, "eur")
    _payment(workspace, jane, 4999, "eur")
    login(page, owner)

    page.goto(f"{live_server.url}/w/acme/settings/")
    page.get_by_label("How amounts are written").select_option("de_DE")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()
    screenshot("money-settings-locale")

    page.goto(f"{live_server.url}/w/acme/payments/")
    expect(page.get_by_role("link", name=f"1.234,50{NB}€")).to_be_visible()
    expect(page.get_by_text(f"Collected 1.284,49{NB}€", exact=True)).to_be_visible()
    screenshot("money-payments-de")

    # A payment in another currency: the list and the chart name each ISO code.
    _payment(workspace, jane, 2500, "usd")
    page.reload()
    expect(page.get_by_role("link", name=f"25,00{NB}USD")).to_be_visible()
    expect(page.get_by_role("link", name=f"1.234,50{NB}EUR")).to_be_visible()
    screenshot("money-payments-mixed")

    link = PaymentLink.objects.create(
        workspace=workspace, contact=jane, amount=123450, currency="eur",
        description="Two visits", expires_at=timezone.now() + dt.timedelta(days=7),
    )  # fmt: skip
    page.goto(live_server.url + link.get_absolute_url())
    expect(page.get_by_text(f"1.234,50{NB}€").first).to_be_visible()
    screenshot("money-pay-page-de")

    workspace.refresh_from_db()
    email = payment_link_email(link)
    page.set_content(email.html)
    expect(page.get_by_text(f"1.234,50{NB}€").first).to_be_visible()
    screenshot("money-email-de")
