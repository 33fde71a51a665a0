"""Billing fixtures: a staff client, bookings for the contact, helpers to post the forms."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.services.links import payment_link_create
from tests.automation.factories import AppointmentFactory, CalendarFactory


@pytest.fixture
def staff_client(staff, as_user):
    return as_user(staff)


@pytest.fixture
def bookings(workspace, contact):
    """Two unpaid bookings of the contact: 49.99 and $25.00."""
    calendar = CalendarFactory(workspace=workspace, name="Teeth cleaning")
    start = timezone.now().replace(microsecond=0) + dt.timedelta(days=3)
    return [
        AppointmentFactory(calendar=calendar, contact=contact, starts_at=start,
                           ends_at=start + dt.timedelta(minutes=30), price_amount=4999,
                           price_currency="usd"),
        AppointmentFactory(calendar=calendar, contact=contact,
                           starts_at=start + dt.timedelta(hours=1),
                           ends_at=start + dt.timedelta(hours=1, minutes=30), price_amount=2500,
                           price_currency="usd"),
    ]  # fmt: skip


def charge_url(contact, tab: str = "card") -> str:
    return reverse("contact_charge", args=[contact.workspace.slug, contact.uuid]) + f"?tab={tab}"


def card_on_file(client, contact, payment_method: str, *, attempt=None, amount="49.99", **extra):
    """Post the card-on-file form's confirmation step (the final POST)."""
    data = {
        "tab": "card",
        "attempt": str(attempt or uuid.uuid4()),
        "payment_method": payment_method,
        "amount": amount,
        "currency": "USD",
        "description": "Cleaning",
        "confirmed": "on",
        **extra,
    }
    return client.post(charge_url(contact), data)


def default_card(stripe_client, contact) -> str:
    customer = stripe_client.v1.customers.retrieve(contact.stripe_customer_id)
    return customer.invoice_settings.default_payment_method


def attach(stripe_client, contact, card: str) -> str:
    return stripe_client.v1.payment_methods.attach(
        card, params={"customer": contact.stripe_customer_id}
    ).id


@pytest.fixture
def link(workspace, connection, contact, bookings, staff):
    """A $74.99 payment link for the contact's two bookings, made by staff."""
    return payment_link_create(
        workspace=workspace, contact=contact, amount=7499, currency="usd",
        description="Your two visits", appointments=bookings, user=staff,
    )  # fmt: skip
