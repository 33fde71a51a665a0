"""A closed link takes no money: cancelling or expiring a payment link cancels the PaymentIntent
the customer's page may still hold, in Stripe, first; if Stripe says the customer paid
already, the link becomes Paid (never Cancelled) and staff are told."""

from __future__ import annotations

from datetime import timedelta

import pytest
import stripe
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from billing.models import Payment, PaymentLink
from billing.reconcile import reconcile_connection
from billing.services.links import payment_link_cancel, payment_link_checkout, payment_link_create


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    cache.clear()


def _open_page(client, link) -> Payment:
    """The customer opens the page: it fetches the link's client secret (not yet paid)."""
    answer = client.post(reverse("public_pay_intent", args=[link.token])).json()
    assert answer["client_secret"]
    return Payment.objects.get()


def _cancel(staff_client, link):
    return staff_client.post(reverse("payment_link_cancel", args=["acme", link.uuid]), follow=True)


def test_cancelling_a_link_cancels_the_intent_its_open_page_holds(
    client, staff_client, link, stripe_client
):
    payment = _open_page(client, link)

    response = _cancel(staff_client, link)

    assert "Payment link cancelled" in response.text
    intent = stripe_client.v1.payment_intents.retrieve(payment.stripe_payment_intent_id)
    assert intent.status == "canceled"
    with pytest.raises(stripe.InvalidRequestError):  # the page confirming now: refused
        stripe_client.v1.payment_intents.confirm(
            intent.id, params={"payment_method": "pm_card_visa"}
        )
    client.get(reverse("public_pay_return", args=[link.token]))
    link.refresh_from_db()
    payment.refresh_from_db()
    assert (link.status, payment.status) == ("cancelled", "canceled")
    answer = client.post(reverse("public_pay_intent", args=[link.token])).json()
    assert "client_secret" not in answer and "cancelled" in answer["error"]


def test_cancelling_a_link_the_customer_already_paid_makes_it_paid_and_says_so(
    client, staff_client, link, stripe_client, django_capture_on_commit_callbacks
):
    payment = _open_page(client, link)
    stripe_client.v1.payment_intents.confirm(  # paid; the webhook has not come yet
        payment.stripe_payment_intent_id, params={"payment_method": "pm_card_visa"}
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = _cancel(staff_client, link)

    assert "The customer had already paid; the link is now Paid" in response.text
    link.refresh_from_db()
    payment.refresh_from_db()
    assert (link.status, payment.status) == ("paid", "succeeded")
    assert {b.payment_status for b in link.appointments.all()} == {"charged_in_full"}
    assert "This link has been paid" in client.get(link.get_absolute_url()).text


def test_a_link_cancelled_while_its_intent_was_being_made_gives_no_secret(link, stripe_client):
    stale = PaymentLink.objects.get(pk=link.pk)  # the customer's request read it open...
    payment_link_cancel(link=link)  # ...staff cancelled it before its intent was made

    with pytest.raises(ValidationError):
        payment_link_checkout(link=stale)

    (intent,) = stripe_client.v1.payment_intents.list().data
    assert intent.status == "canceled"
    assert PaymentLink.objects.get(pk=link.pk).status == "cancelled"


def test_opening_an_expired_link_cancels_the_intent_an_earlier_visit_made(
    client, link, stripe_client
):
    payment = _open_page(client, link)
    PaymentLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(hours=1))

    page = client.get(link.get_absolute_url())

    assert "This payment link has expired" in page.text
    intent = stripe_client.v1.payment_intents.retrieve(payment.stripe_payment_intent_id)
    assert intent.status == "canceled"
    payment.refresh_from_db()
    assert payment.status == "canceled"


def test_reconciliation_cancels_the_intents_of_expired_links_and_records_those_paid(
    client, link, connection, contact, stripe_client, workspace
):
    left_open = _open_page(client, link)
    paid_link = payment_link_create(workspace=workspace, contact=contact, amount=1500,
                                    currency="usd", description="Whitening")  # fmt: skip
    paid, _ = payment_link_checkout(link=paid_link)
    stripe_client.v1.payment_intents.confirm(
        paid.stripe_payment_intent_id, params={"payment_method": "pm_card_visa"}
    )
    PaymentLink.objects.update(expires_at=timezone.now() - timedelta(minutes=5))

    report = reconcile_connection(connection=connection, since=timezone.now() - timedelta(days=1))

    assert report.error == ""
    intent = stripe_client.v1.payment_intents.retrieve(left_open.stripe_payment_intent_id)
    assert intent.status == "canceled"
    left_open.refresh_from_db()
    paid.refresh_from_db()
    assert (left_open.status, paid.status) == ("canceled", "succeeded")
    assert PaymentLink.objects.get(pk=paid_link.pk).status == "paid"
    assert PaymentLink.objects.get(pk=link.pk).is_expired


def test_every_five_minutes_a_schedule_closes_expired_links(client, link, stripe_client):
    from django_q.models import Schedule

    from billing.apps import ensure_schedules
    from billing.tasks import close_expired_links

    ensure_schedules(sender=None)
    schedule = Schedule.objects.get(name="Close expired payment links")
    assert (schedule.func, schedule.minutes) == ("billing.tasks.close_expired_links", 5)
    left_open = _open_page(client, link)
    PaymentLink.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    assert close_expired_links() == "1 expired payment links closed"
    intent = stripe_client.v1.payment_intents.retrieve(left_open.stripe_payment_intent_id)
    assert intent.status == "canceled"
