"""Nothing is edited under a payment in flight: an invoice whose payer has an attempt pending
(also while Stripe waits for the customer) or processing cannot be edited, in the service under
the invoice's row lock and on the edit page, so a payment is recorded against the total and
currency it was started for."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from billing.services.charges import payment_refresh
from invoices.models import Invoice, InvoicePayment
from invoices.payments import invoice_pay_card
from invoices.services import invoice_save
from tests.invoices.test_invoice_views import _post_data
from tests.invoices.test_pay_service import _saved_card

IN_FLIGHT = "A payment of this invoice is under way"


def _edit_to_jpy(invoice: Invoice) -> Invoice:
    return invoice_save(
        workspace=invoice.workspace,
        invoice=invoice,
        contact=invoice.contact,
        org_unit=invoice.org_unit,
        currency="jpy",
        due_date=None,
        notes="Edited",
        lines=[{"description": "Lead", "quantity": 1, "unit_price": 60}],
    )


def test_a_pending_payment_refuses_the_edit_and_is_recorded_against_the_original_total(
    work_item, payer, stripe_client
):
    invoice = work_item.invoice
    started = invoice_pay_card(work_item=work_item, payer=payer, amount=5000)  # new card
    assert InvoicePayment.objects.get().status == "pending"

    with pytest.raises(ValidationError, match=IN_FLIGHT):
        _edit_to_jpy(invoice)
    invoice.refresh_from_db()
    assert (invoice.currency, invoice.total, invoice.lines.count()) == ("usd", 20000, 2)

    # The payer's page confirms; the payment lands on the invoice it was started for.
    payment = InvoicePayment.objects.get(pk=started.attempt.pk).payment
    stripe_client.v1.payment_intents.confirm(
        payment.stripe_payment_intent_id, params={"payment_method": "pm_card_visa"}
    )
    payment_refresh(payment=payment, via="return page")
    invoice.refresh_from_db()
    assert (invoice.status, invoice.currency, invoice.total, invoice.amount_paid) == (
        "partially_paid",
        "usd",
        20000,
        5000,
    )


def test_the_check_reads_the_locked_row_not_the_callers_copy(work_item, payer, sandbox, connection):
    """A copy loaded before a payment started (the edit page opened first) still sees it."""
    stale = Invoice.objects.get(pk=work_item.invoice_id)
    card = _saved_card(sandbox, connection, payer)
    invoice_pay_card(work_item=work_item, payer=payer, amount=5000, payment_method_id=card)
    with pytest.raises(ValidationError, match="Only a draft or open invoice"):
        _edit_to_jpy(stale)
    invoice = Invoice.objects.get()
    assert (invoice.currency, invoice.total, invoice.amount_paid) == ("usd", 20000, 5000)


def test_a_failed_attempt_no_longer_blocks_the_edit(work_item, payer):
    started = invoice_pay_card(work_item=work_item, payer=payer, amount=5000)
    InvoicePayment.objects.filter(pk=started.attempt.pk).update(status="failed")
    edited = _edit_to_jpy(work_item.invoice)
    assert (edited.currency, edited.total) == ("jpy", 60)


def test_the_edit_page_says_why_and_saves_nothing(work_item, payer, staff, as_user):
    invoice = work_item.invoice
    invoice_pay_card(work_item=work_item, payer=payer, amount=5000)
    client = as_user(staff)
    url = reverse("invoice_edit", args=["acme", invoice.uuid])
    page = client.get(url)
    assert page.status_code == 200 and IN_FLIGHT in page.text

    data = _post_data(invoice.contact, None, [("Lead", "1", "60")], currency="JPY")
    response = client.post(url, data)
    assert response.status_code == 200
    assert response.text.count(IN_FLIGHT) == 1  # next to the form, once
    invoice.refresh_from_db()
    assert (invoice.currency, invoice.total, invoice.lines.count()) == ("usd", 20000, 2)
