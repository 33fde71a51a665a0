""" "Send a payment link" is two steps (the charge page's link tab makes the link and shows
the e-mail's preview; the preview's button sends it). Posting either step twice makes one link
and sends one e-mail: the link is created once per form attempt, and the send button says how
many times the page saw the link sent."""

from __future__ import annotations

import uuid

from django.core import mail
from django.urls import reverse

from billing.models import PaymentLink
from tests.billing.conftest import charge_url
from tests.factories import ContactFactory

EXPIRED = "This form has expired; reload the page and try again."


def _link_form(attempt, bookings=(), **extra) -> dict:
    return {"tab": "link", "attempt": str(attempt), "amount": "", "currency": "USD",
            "description": "Your visits", "expires_days": "7",
            "appointments": [str(b.uuid) for b in bookings], **extra}  # fmt: skip


def test_posting_the_link_form_and_its_send_button_twice_makes_one_link_and_one_email(
    staff_client, contact, bookings
):
    data = _link_form(uuid.uuid4(), bookings)

    first = staff_client.post(charge_url(contact, "link"), data)
    second = staff_client.post(charge_url(contact, "link"), data)

    link = PaymentLink.objects.get()
    detail = reverse("payment_link_detail", args=["acme", link.uuid])
    assert (first.status_code, second.status_code) == (302, 302)
    assert first["Location"] == second["Location"] == detail
    preview = staff_client.get(detail)
    assert 'name="sent_count" value="0"' in preview.text and mail.outbox == []

    send = reverse("payment_link_send", args=["acme", link.uuid])
    answers = [staff_client.post(send, {"sent_count": "0"}, follow=True) for _ in range(2)]

    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["jane@example.com"]
    link.refresh_from_db()
    assert link.sent_count == 1
    assert "Payment link sent to jane@example.com" in answers[0].text
    assert "The e-mail was sent already" in answers[1].text
    assert PaymentLink.objects.count() == 1


def test_the_same_attempt_for_another_contact_is_refused(staff_client, workspace, contact):
    attempt = uuid.uuid4()
    staff_client.post(charge_url(contact, "link"), _link_form(attempt, amount="20.00"))
    other = ContactFactory(workspace=workspace, name="Max Roe", email="max@example.com")

    response = staff_client.post(charge_url(other, "link"), _link_form(attempt, amount="20.00"))

    assert response.status_code == 200 and EXPIRED in response.text
    assert PaymentLink.objects.get().contact == contact


def test_the_same_attempt_with_another_amount_is_refused(staff_client, contact):
    attempt = uuid.uuid4()
    staff_client.post(charge_url(contact, "link"), _link_form(attempt, amount="20.00"))

    response = staff_client.post(charge_url(contact, "link"), _link_form(attempt, amount="25.00"))

    assert response.status_code == 200 and EXPIRED in response.text
    assert PaymentLink.objects.get().amount == 2000


def test_a_second_post_of_the_send_button_sends_nothing_and_a_resend_sends_again(
    staff_client, workspace, contact
):
    from billing.services.links import payment_link_create

    link = payment_link_create(workspace=workspace, contact=contact, amount=2000,
                               currency="usd", description="Cleaning")  # fmt: skip
    send = reverse("payment_link_send", args=["acme", link.uuid])

    staff_client.post(send, {"sent_count": "0"})
    staff_client.post(send, {"sent_count": "0"})  # a double click, or the browser's repeat
    assert len(mail.outbox) == 1

    page = staff_client.get(reverse("payment_link_detail", args=["acme", link.uuid]))
    assert "Re-send the e-mail" in page.text and 'name="sent_count" value="1"' in page.text
    staff_client.post(send, {"sent_count": "1"})  # "Re-send", meant
    assert len(mail.outbox) == 2
    link.refresh_from_db()
    assert link.sent_count == 2
