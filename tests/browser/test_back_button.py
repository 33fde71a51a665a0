"""Pay, press Back, press Pay again: one charge, wherever money moves in the browser.

Chromium may restore the earlier page as it was (the same form token: the server answers with
the first result) or fetch it again (a fresh token: the server sees the same amount charged
moments ago and asks whether a second charge is meant). Either way nothing is charged twice.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from billing.models import Payment
from invoices.models import Invoice, InvoicePayment
from invoices.payments import payer_customer
from tests.browser.test_billing import _card
from tests.browser.test_invoices import work_item as work_item  # a fixture


def _intents(stripe_client) -> int:
    return len(stripe_client.v1.payment_intents.list().data)


def test_staff_card_on_file_pay_back_pay_charges_once(
    live_server, page, login, screenshot, staff, contact, stripe_client
):
    login(page, staff)
    page.goto(f"{live_server.url}/w/acme/contacts/{contact.uuid}/charge/?tab=card")
    page.get_by_label("Amount").fill("1.00")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Yes, charge").click()
    expect(page.get_by_role("heading", name="Payment succeeded")).to_be_visible()

    page.go_back()  # the confirmation, as it was
    page.get_by_role("button", name="Yes, charge").click()
    expect(page.get_by_text("This charge was already made")).to_be_visible()
    assert _intents(stripe_client) == 1

    page.go_back()
    page.go_back()  # the form itself
    page.get_by_label("Amount").fill("1.00")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Yes, charge").click()
    expect(page.get_by_text(re.compile(r"\$1\.00 was charged to Jane Cooper at"))).to_be_visible()
    screenshot("back-card-on-file-repeat-question")
    assert _intents(stripe_client) == 1 and Payment.objects.count() == 1


def test_staff_new_card_pay_back_pay_charges_once(
    live_server, page, login, screenshot, staff, contact, stripe_client
):
    login(page, staff)
    page.goto(f"{live_server.url}/w/acme/contacts/{contact.uuid}/charge/?tab=new")
    page.get_by_label("Amount").fill("1.00")
    _card(page, "4242 4242 4242 4242")
    page.get_by_role("button", name="Charge card").click()
    expect(page.get_by_role("heading", name="Payment succeeded")).to_be_visible()

    page.go_back()
    expect(page.get_by_role("button", name="Charge card")).to_be_visible()
    page.get_by_label("Amount").fill("1.00")
    _card(page, "4242 4242 4242 4242")
    page.get_by_role("button", name="Charge card").click()
    # The first result again, or the question whether a second charge is meant.
    expect(
        page.get_by_role("heading", name="Payment succeeded").or_(
            page.get_by_text(re.compile(r"\$1\.00 was charged to Jane Cooper at"))
        )
    ).to_be_visible()
    screenshot("back-new-card")
    succeeded = [i for i in stripe_client.v1.payment_intents.list().data if i.status == "succeeded"]
    assert len(succeeded) == 1 and Payment.objects.filter(status="succeeded").count() == 1


@pytest.fixture
def payer_card(sandbox, connection, payer) -> str:
    customer = payer_customer(user=payer, connection=connection)
    client = sandbox.client(connection.secret_key)
    return client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer}).id


def test_payer_pay_back_pay_charges_once(
    live_server,
    page,
    login,
    screenshot,
    payer,
    work_item,
    payer_card,
):
    login(page, payer)
    page.goto(f"{live_server.url}{work_item.get_absolute_url()}pay/")
    page.get_by_label("Amount (USD)").fill("1.00")
    page.get_by_label(re.compile(r"Visa •••• 4242")).check()
    page.get_by_role("button", name="Pay", exact=True).click()
    expect(page.get_by_text("Paid $1.00. The invoice is now Partially paid.")).to_be_visible()

    page.go_back()
    page.get_by_label("Amount (USD)").fill("1.00")
    page.get_by_label(re.compile(r"Visa •••• 4242")).check()
    page.get_by_role("button", name="Pay", exact=True).click()
    expect(
        page.get_by_text("This payment was already made").or_(
            page.get_by_text(re.compile(r"You paid \$1\.00 on this invoice at"))
        )
    ).to_be_visible()
    screenshot("back-payer")
    assert Invoice.objects.get().amount_paid == 100
    assert InvoicePayment.objects.filter(status="succeeded").count() == 1


def test_staff_send_link_back_send_makes_one_link_and_one_email(
    live_server, page, login, screenshot, staff, contact, stripe_client
):
    from django.core import mail

    from billing.models import PaymentLink

    login(page, staff)
    page.goto(f"{live_server.url}/w/acme/contacts/{contact.uuid}/charge/?tab=link")
    page.get_by_label("Amount").fill("1.00")
    page.get_by_label("Description").fill("Your visit")
    page.get_by_role("button", name="Preview the e-mail").click()
    page.get_by_role("button", name="Send the e-mail").click()
    expect(page.get_by_text("Payment link sent to jane@example.com.")).to_be_visible()

    page.go_back()  # the preview, as it was or fetched again (then it offers a re-send)
    send = page.get_by_role("button", name="Send the e-mail", exact=True)
    if send.count():
        send.click()
    screenshot("back-link")
    assert PaymentLink.objects.count() == 1 and len(mail.outbox) == 1

    page.go_back()  # the form itself, fetched again: a fresh token
    page.get_by_label("Amount").fill("1.00")
    page.get_by_label("Description").fill("Your visit")
    page.get_by_role("button", name="Preview the e-mail").click()
    expect(page.get_by_text(re.compile(r"A link for \$1\.00 was made for Jane"))).to_be_visible()
    screenshot("back-link-2")
    assert PaymentLink.objects.filter(status="open").count() == 1 and len(mail.outbox) == 1
