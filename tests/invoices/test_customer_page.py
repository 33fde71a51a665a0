"""The customer page (a contact's page): bookings, payments, links, saved cards, invoices.

Each section with data and without; who sees which section and button. Removing a card is in
tests/billing/test_card_remove.py; 404/403 of the URL itself in tests/test_access.py.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.models import Payment, PaymentLink, Refund
from invoices.services import invoice_save
from portal import perms
from portal.templatetags.money import money
from tests.automation.factories import AppointmentFactory, CalendarFactory
from tests.billing.conftest import attach
from tests.factories import ContactFactory, MembershipFactory, RoleFactory, UserFactory

pytestmark = pytest.mark.django_db


def _url(contact) -> str:
    return reverse("contact_detail", args=[contact.workspace.slug, contact.uuid])


def _section(html: str, section_id: str) -> str:
    """The markup of one `<section id=...>` of the page ('' when the page has none)."""
    match = re.search(rf'<section id="{section_id}".*?</section>', html, re.S)
    return match.group(0) if match else ""


def _payment(contact, *, amount=4999, status="succeeded", key="p1", **fields) -> Payment:
    return Payment.objects.create(workspace=contact.workspace, contact=contact,
                                  source="card_on_file", idempotency_key=key, amount=amount,
                                  currency="usd", status=status, **fields)  # fmt: skip


def _link(contact, *, description, status="open", expires_in=dt.timedelta(days=7)):
    return PaymentLink.objects.create(workspace=contact.workspace, contact=contact, amount=2500,
                                      currency="usd", description=description, status=status,
                                      expires_at=timezone.now() + expires_in)  # fmt: skip


@pytest.fixture
def customer(workspace):
    """A contact with no Stripe customer, no bookings, no payments."""
    return ContactFactory(workspace=workspace, name="Ada Lovelace", email="ada@example.com")


# --- bookings --------------------------------------------------------------------------------


def test_bookings_read_in_date_order_with_their_paid_state_linked_to_the_payment(
    workspace, customer, staff, as_user
):
    calendar = CalendarFactory(workspace=workspace, name="Cleaning")
    now = timezone.now().replace(microsecond=0)
    later = AppointmentFactory(calendar=calendar, contact=customer, price_amount=2500,
                               starts_at=now + dt.timedelta(days=9))  # fmt: skip
    sooner = AppointmentFactory(calendar=calendar, contact=customer, price_amount=4999,
                                starts_at=now + dt.timedelta(days=2))  # fmt: skip
    paid = _payment(customer, amount=4999)
    paid.appointments.add(sooner)
    sooner.payment_status = sooner.PaymentStatus.CHARGED_IN_FULL
    sooner.save()
    AppointmentFactory(calendar=calendar, name="Someone else")  # not this contact's

    bookings = _section(as_user(staff).get(_url(customer)).text, "bookings")

    assert bookings.count("<tr>") == 3  # the head and two bookings
    assert bookings.index(money(4999, "usd")) < bookings.index(money(2500, "usd"))
    assert "Charged in Full" in bookings and paid.get_absolute_url() in bookings
    assert "Unpaid" in bookings
    assert later.get_absolute_url() in bookings and sooner.get_absolute_url() in bookings


def test_without_bookings_the_page_says_so(customer, staff, as_user):
    bookings = _section(as_user(staff).get(_url(customer)).text, "bookings")
    assert "No bookings yet" in bookings


# --- payments and links ----------------------------------------------------------------------


def test_payments_show_amount_status_in_words_and_refunds(customer, staff, as_user):
    refunded = _payment(customer, amount=4999, key="p1", amount_refunded=1000,
                        description="Cleaning")  # fmt: skip
    Refund.objects.create(payment=refunded, amount=1000, status="succeeded", reason="Late start")
    _payment(customer, amount=7500, key="p2", status="failed",
             failure_message="Your card was declined.")  # fmt: skip
    _payment(customer, amount=100, key="p3", status="requires_action")

    payments = _section(as_user(staff).get(_url(customer)).text, "payments")

    assert money(4999, "usd") in payments and "Succeeded" in payments
    assert "partially refunded" in payments
    assert f"{money(1000, 'usd')}: succeeded" in payments and "Late start" in payments
    assert "Failed" in payments and "Your card was declined." in payments
    assert ">Needs the customer<" in payments  # the status in words, not its code
    assert not re.search(r">\s*requires_action", payments, re.I)
    assert refunded.get_absolute_url() in payments


def test_without_payments_the_page_says_so(customer, staff, as_user):
    payments = _section(as_user(staff).get(_url(customer)).text, "payments")
    assert "No payments from this customer yet" in payments


def test_open_links_show_status_and_expiry_paid_and_cancelled_ones_do_not(customer, staff, as_user):
    live = _link(customer, description="Two visits")
    _link(customer, description="Old offer", expires_in=-dt.timedelta(days=1))
    _link(customer, description="Paid visit", status="paid")
    _link(customer, description="Withdrawn", status="cancelled")

    links = _section(as_user(staff).get(_url(customer)).text, "payment-links")

    assert "Two visits" in links and "Old offer" in links
    assert "Paid visit" not in links and "Withdrawn" not in links
    assert ">Open<" in links and ">Expired<" in links
    assert links.index("Old offer") < links.index("Two visits")  # the soonest expiry first
    assert reverse("payment_link_detail", args=["acme", live.uuid]) in links


def test_without_open_links_the_page_says_so(customer, staff, as_user):
    _link(customer, description="Paid visit", status="paid")
    links = _section(as_user(staff).get(_url(customer)).text, "payment-links")
    assert "No open payment links" in links and "Paid visit" not in links


# --- saved cards -----------------------------------------------------------------------------


def test_saved_cards_come_from_stripe_default_first_each_with_remove(
    contact, stripe_client, staff, as_user
):
    extra = attach(stripe_client, contact, "pm_card_mastercard")

    cards = _section(as_user(staff).get(_url(contact)).text, "cards")

    assert "Visa •••• 4242" in cards and "Mastercard •••• 4444" in cards
    assert cards.index("Visa •••• 4242") < cards.index("Mastercard •••• 4444")
    assert "Default" in cards
    assert reverse("contact_card_remove", args=["acme", contact.uuid, extra]) in cards
    assert cards.count(">Remove</a>") == 2


def test_a_customer_without_cards_gets_a_clear_empty_state(
    workspace, connection, stripe_client, staff, as_user
):
    bare = stripe_client.v1.customers.create(params={"email": "bare@example.com"})
    contact = ContactFactory(workspace=workspace, stripe_customer_id=bare.id)
    assert "No saved cards" in _section(as_user(staff).get(_url(contact)).text, "cards")


def test_a_contact_without_a_stripe_customer_says_why_no_card_shows(
    customer, connection, staff, as_user
):
    cards = _section(as_user(staff).get(_url(customer)).text, "cards")
    assert "no Stripe customer yet" in cards and "Remove" not in cards


def test_a_reader_sees_cards_and_payments_but_neither_remove_nor_charge(contact, viewer, as_user):
    page = as_user(viewer).get(_url(contact)).text
    cards = _section(page, "cards")
    assert "Visa •••• 4242" in cards and "Remove" not in cards
    assert _section(page, "payments") and "Charge customer" not in page


def test_contacts_view_alone_shows_bookings_but_not_money_or_cards(workspace, contact, as_user):
    role = RoleFactory(workspace=workspace, name="Front desk", permissions=[perms.CONTACTS_VIEW])
    desk = UserFactory(username="desk@acme.test")
    MembershipFactory(user=desk, workspace=workspace, roles=[role])

    page = as_user(desk).get(_url(contact))

    assert page.status_code == 200
    assert _section(page.text, "bookings")
    for hidden in ("payments", "payment-links", "cards", "invoices"):
        assert not _section(page.text, hidden), hidden
    assert "Charge customer" not in page.text


# --- invoices and the Charge button ----------------------------------------------------------


def test_the_contacts_invoices_show_only_when_there_are_some(customer, staff, as_user):
    client = as_user(staff)
    assert not _section(client.get(_url(customer)).text, "invoices")

    lines = [{"description": "Leads", "quantity": 2, "unit_price": 1500}]
    invoice = invoice_save(workspace=customer.workspace, contact=customer, org_unit=None,
                           currency="usd", due_date=None, notes="", lines=lines)  # fmt: skip
    invoices = _section(client.get(_url(customer)).text, "invoices")

    assert invoice.display_number in invoices and "Draft" in invoices
    assert money(3000, "usd") in invoices and invoice.get_absolute_url() in invoices


def test_charge_customer_opens_the_charge_page_for_this_contact(customer, staff, as_user):
    page = as_user(staff).get(_url(customer)).text
    assert f'href="{reverse("contact_charge", args=["acme", customer.uuid])}"' in page
    assert "Charge customer" in page


def test_the_contacts_list_links_each_contact_to_its_customer_page(customer, staff, as_user):
    listing = as_user(staff).get(reverse("contact_list", args=["acme"])).text
    assert f'href="{_url(customer)}"' in listing
