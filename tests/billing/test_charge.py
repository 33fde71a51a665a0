"""The Charge Customer page: card on file (confirm, charge, declines), new card, link tab."""

from __future__ import annotations

import threading
import uuid

import pytest
import requests
from django.urls import reverse

from billing.models import Payment, PaymentLink
from tests.billing.conftest import attach, card_on_file, charge_url, default_card
from tests.factories import PASSWORD


def test_the_card_tab_lists_the_saved_cards_default_first(staff_client, contact, stripe_client):
    attach(stripe_client, contact, "pm_card_mastercard")
    response = staff_client.get(charge_url(contact))
    assert response.status_code == 200
    text = response.text
    assert "Visa •••• 4242, expires" in text and "Mastercard •••• 4444" in text
    assert text.index("Visa •••• 4242") < text.index("Mastercard •••• 4444")
    assert "(default)" in text
    assert 'name="attempt"' in text
    for tab in ("Card on file", "New card", "Send payment link"):
        assert tab in text


def test_the_contact_page_has_a_charge_button_for_billing_staff(
    contact, staff_client, viewer, as_user
):
    url = reverse("contact_detail", args=["acme", contact.uuid])
    assert "Charge customer" in staff_client.get(url).text
    assert "Charge customer" not in as_user(viewer).get(url).text


def test_the_first_step_asks_for_confirmation_and_charges_nothing(
    staff_client, contact, stripe_client
):
    response = card_on_file(staff_client, contact, default_card(stripe_client, contact),
                            confirmed="")  # fmt: skip
    assert "Charge $49.99 to Visa •••• 4242" in response.text
    assert 'name="confirmed" value="on"' in response.text
    assert not Payment.objects.exists()
    assert not stripe_client.v1.payment_intents.list().data


def test_a_card_on_file_charge_succeeds_at_once(staff_client, contact, stripe_client):
    response = card_on_file(staff_client, contact, default_card(stripe_client, contact))

    payment = Payment.objects.get()
    assert payment.status == "succeeded" and payment.source == "card_on_file"
    assert (payment.amount, payment.currency) == (4999, "usd")
    assert "Payment succeeded" in response.text
    assert payment.get_absolute_url() in response.text
    intents = stripe_client.v1.payment_intents.list().data
    assert len(intents) == 1 and intents[0].status == "succeeded"


def test_a_decline_shows_stripes_reason_and_a_fresh_attempt(staff_client, contact, stripe_client):
    declined = attach(stripe_client, contact, "pm_card_chargeCustomerFail")
    attempt = uuid.uuid4()

    response = card_on_file(staff_client, contact, declined, attempt=attempt)

    assert "The charge was declined" in response.text
    assert "Your card was declined." in response.text
    assert Payment.objects.get().status == "failed"
    assert str(attempt) not in response.text  # the next try is a new attempt
    assert "Send a payment link instead" not in response.text


def test_an_authentication_required_decline_offers_a_prefilled_link(
    staff_client, contact, stripe_client
):
    card = attach(stripe_client, contact, "pm_card_authenticationRequired")

    response = card_on_file(staff_client, contact, card)

    assert "Send a payment link instead" in response.text
    assert "tab=link&amp;amount=49.99&amp;currency=USD&amp;description=Cleaning" in response.text
    link_tab = staff_client.get(charge_url(contact, "link") + "&amount=49.99&currency=USD")
    assert 'value="49.99"' in link_tab.text


def test_a_double_submit_of_one_attempt_charges_once(staff_client, contact, stripe_client):
    card, attempt = default_card(stripe_client, contact), uuid.uuid4()

    first = card_on_file(staff_client, contact, card, attempt=attempt)
    second = card_on_file(staff_client, contact, card, attempt=attempt)

    assert "Payment succeeded" in first.text and "Payment succeeded" in second.text
    assert Payment.objects.count() == 1
    assert len(stripe_client.v1.payment_intents.list().data) == 1


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_submissions_of_one_attempt_charge_once(live_server, staff, contact,
                                                               stripe_client):  # fmt: skip
    card, attempt = default_card(stripe_client, contact), str(uuid.uuid4())
    session = requests.Session()
    login = session.get(f"{live_server.url}/accounts/login/")
    session.post(f"{live_server.url}/accounts/login/", data={
        "username": staff.username, "password": PASSWORD,
        "csrfmiddlewaretoken": login.cookies.get("csrftoken") or session.cookies["csrftoken"],
    })  # fmt: skip
    url = live_server.url + charge_url(contact)
    data = {"tab": "card", "attempt": attempt, "payment_method": card, "amount": "20.00",
            "currency": "USD", "description": "", "confirmed": "on",
            "csrfmiddlewaretoken": session.cookies["csrftoken"]}  # fmt: skip
    barrier, answers = threading.Barrier(2), []

    def submit():
        barrier.wait()
        answers.append(session.post(url, data=data, headers={"Referer": url}).status_code)

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert answers == [200, 200]
    assert len(stripe_client.v1.payment_intents.list().data) == 1
    assert Payment.objects.count() == 1


def test_a_bad_amount_is_refused_next_to_the_field(staff_client, contact, stripe_client):
    response = card_on_file(staff_client, contact, default_card(stripe_client, contact),
                            amount="0.10")  # fmt: skip
    assert "Stripe&#x27;s minimum charge in USD is $0.50." in response.text
    assert not Payment.objects.exists()


def test_a_card_of_another_customer_is_refused(staff_client, contact, stripe_client):
    response = card_on_file(staff_client, contact, "pm_card_visa")
    assert "Select a valid choice" in response.text
    assert not Payment.objects.exists()


def test_the_new_card_tab_loads_stripe_js_with_the_publishable_key(
    staff_client, contact, connection, settings
):
    response = staff_client.get(charge_url(contact, "new"))
    assert f'data-publishable-key="{connection.publishable_key}"' in response.text
    assert settings.STRIPE_JS_URL in response.text and "js/pay.js" in response.text
    assert connection.secret_key not in response.text
    assert "Save this card for future charges" in response.text


def test_the_new_card_intent_answers_json_with_the_client_secret(
    staff_client, contact, stripe_client
):
    data = {"tab": "new", "attempt": str(uuid.uuid4()), "amount": "12.00", "currency": "USD",
            "description": "New card"}  # fmt: skip
    first = staff_client.post(charge_url(contact, "new"), data).json()
    again = staff_client.post(charge_url(contact, "new"), data).json()

    payment = Payment.objects.get()
    assert first["client_secret"].startswith(payment.stripe_payment_intent_id)
    assert again["client_secret"] == first["client_secret"]
    assert first["return_url"] == reverse("payment_return", args=["acme", payment.uuid])
    assert payment.source == "new_card" and payment.status == "pending"


def test_the_new_card_intent_refuses_a_bad_amount_with_field_errors(staff_client, contact):
    data = {"tab": "new", "attempt": str(uuid.uuid4()), "amount": "4,99", "currency": "USD"}
    response = staff_client.post(charge_url(contact, "new"), data)
    assert response.status_code == 400
    assert "amount" in response.json()["errors"]
    assert not Payment.objects.exists()


def test_the_return_page_asks_stripe_and_shows_the_result(staff_client, contact, stripe_client):
    data = {"tab": "new", "attempt": str(uuid.uuid4()), "amount": "12.00", "currency": "USD"}
    answer = staff_client.post(charge_url(contact, "new"), data).json()
    payment = Payment.objects.get()
    stripe_client.v1.payment_intents.confirm(
        payment.stripe_payment_intent_id, params={"payment_method": "pm_card_visa"}
    )

    response = staff_client.get(answer["return_url"])

    assert "Payment succeeded" in response.text
    payment.refresh_from_db()
    assert payment.status == "succeeded"


def test_the_link_tab_lists_unpaid_bookings_and_creates_an_unsent_link(
    staff_client, contact, bookings
):
    page = staff_client.get(charge_url(contact, "link"))
    assert "Teeth cleaning" in page.text and "Use their total" in page.text

    data = {"tab": "link", "attempt": str(uuid.uuid4()), "amount": "", "currency": "USD",
            "description": "Your visits", "expires_days": "7",
            "appointments": [str(b.uuid) for b in bookings]}  # fmt: skip
    response = staff_client.post(charge_url(contact, "link"), data)

    link = PaymentLink.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("payment_link_detail", args=["acme", link.uuid])
    assert (link.amount, link.currency, link.sent_count) == (7499, "usd", 0)
    assert set(link.appointments.all()) == set(bookings)


def test_the_link_tab_without_amount_or_bookings_is_refused(staff_client, contact):
    data = {"tab": "link", "attempt": str(uuid.uuid4()), "amount": "", "currency": "USD",
            "description": "x", "expires_days": "7"}  # fmt: skip
    response = staff_client.post(charge_url(contact, "link"), data)
    assert response.status_code == 200
    assert "Enter an amount, or choose bookings" in response.text
    assert not PaymentLink.objects.exists()
