"""The payer's pay form sent twice pays once: the page renders its one-time token and
requires it; a fresh token repeating a payment made moments ago must be meant."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from invoices.models import Invoice, InvoicePayment
from invoices.payments import payer_customer

pytestmark = pytest.mark.django_db


def _pay(client, item, *, attempt, amount="20.00", card, **extra):
    data = {"action": "pay", "attempt": str(attempt), "amount": amount, "method": "card",
            "payment_method": card, **extra}  # fmt: skip
    return client.post(reverse("work_item_pay", args=["acme", item.uuid]), data, follow=True)


@pytest.fixture
def card(sandbox, connection, payer) -> str:
    customer = payer_customer(user=payer, connection=connection)
    client = sandbox.client(connection.secret_key)
    return client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer}).id


@pytest.fixture
def payer_client(as_user, payer):
    return as_user(payer)


def test_the_page_renders_its_token_and_a_post_without_one_pays_nothing(
    payer_client, work_item, card
):
    page = payer_client.get(reverse("work_item_pay", args=["acme", work_item.uuid])).text
    assert 'name="attempt"' in page and 'type="hidden"' in page
    data = {"action": "pay", "amount": "20.00", "method": "card", "payment_method": card}
    response = payer_client.post(reverse("work_item_pay", args=["acme", work_item.uuid]), data)
    assert "reload the page" in response.text
    assert not InvoicePayment.objects.exists()


def test_the_same_form_sent_twice_pays_once_and_says_so(payer_client, work_item, card):
    token = uuid.uuid4()
    _pay(payer_client, work_item, attempt=token, card=card)
    again = _pay(payer_client, work_item, attempt=token, card=card)
    assert "This payment was already made" in again.text
    invoice = Invoice.objects.get()
    assert invoice.amount_paid == 2000 and InvoicePayment.objects.count() == 1


def test_a_fresh_form_repeating_a_payment_asks_first(payer_client, work_item, card):
    _pay(payer_client, work_item, attempt=uuid.uuid4(), card=card)
    asked = _pay(payer_client, work_item, attempt=uuid.uuid4(), card=card)
    assert "You paid $20.00 on this invoice at" in asked.text
    assert "Yes, pay again" in asked.text
    assert Invoice.objects.get().amount_paid == 2000
    _pay(payer_client, work_item, attempt=uuid.uuid4(), card=card, repeat="on")
    assert Invoice.objects.get().amount_paid == 4000


def test_after_a_decline_the_same_page_pays_with_another_card(
    payer_client, work_item, card, sandbox, connection, payer
):
    customer = payer_customer(user=payer, connection=connection)
    client = sandbox.client(connection.secret_key)
    declining = client.v1.payment_methods.attach(
        "pm_card_chargeCustomerFail", params={"customer": customer}
    ).id
    token = uuid.uuid4()
    declined = _pay(payer_client, work_item, attempt=token, card=declining)
    assert "The card was declined" in declined.text
    # The page shown after the decline carries a new token: the next try is a new attempt.
    fresh = declined.text.split('name="attempt" value="')[1].split('"')[0]
    assert fresh != str(token)
    paid = _pay(payer_client, work_item, attempt=fresh, card=card)
    assert "Paid $20.00" in paid.text
    assert Invoice.objects.get().amount_paid == 2000
