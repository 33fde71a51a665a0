"""Payment links: preview, send, re-send, cancel; the hosted page, its CSP, rate limit, return,
success page; and the webhook path that confirms a payment when the customer never returns."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from billing.models import Payment, PaymentLink
from integrations.services import webhook_secret_set
from tests.integrations.webhook_helpers import signature

HOOK_SECRET = "whsec_billingLinkSecret01"


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    cache.clear()


def _detail(link):
    return reverse("payment_link_detail", args=["acme", link.uuid])


def test_the_preview_shows_the_email_and_sends_nothing(staff_client, link):
    response = staff_client.get(_detail(link))
    assert "Preview of the e-mail" in response.text
    assert "Acme: payment request of $74.99" in response.text
    assert f"/pay/{link.token}/" in response.text
    assert "Teeth cleaning" in response.text and "Send the e-mail" in response.text
    assert mail.outbox == []


def test_send_then_resend_puts_the_link_in_the_outbox(staff_client, link, settings):
    send = reverse("payment_link_send", args=["acme", link.uuid])
    # Each button says how many times its page saw the link sent (a repeat sends nothing).
    assert staff_client.post(send, {"sent_count": "0"}).status_code == 302
    assert staff_client.post(send, {"sent_count": "1"}).status_code == 302

    assert len(mail.outbox) == 2
    assert mail.outbox[0].to == ["jane@example.com"]
    assert f"{settings.SITE_URL}/pay/{link.token}/" in mail.outbox[0].body
    link.refresh_from_db()
    assert link.sent_count == 2
    listing = staff_client.get(reverse("payment_link_list", args=["acme"]))
    assert "2×" in listing.text and "Re-send" in listing.text


def test_cancel_asks_first_then_the_link_takes_no_payment(staff_client, link, client):
    cancel = reverse("payment_link_cancel", args=["acme", link.uuid])
    assert "Cancel this payment link?" in staff_client.get(cancel).text
    link.refresh_from_db()
    assert link.status == "open"

    staff_client.post(cancel)

    link.refresh_from_db()
    assert link.status == "cancelled"
    page = client.get(link.get_absolute_url())
    assert page.status_code == 200 and "This payment link was cancelled" in page.text
    assert "js.stripe.com" not in page.text and "data-pay-form" not in page.text
    answer = client.post(reverse("public_pay_intent", args=[link.token])).json()
    assert "client_secret" not in answer and "cancelled" in answer["error"]
    assert not Payment.objects.exists()
    sent = staff_client.post(reverse("payment_link_send", args=["acme", link.uuid]), follow=True)
    assert "can no longer be paid" in sent.text and mail.outbox == []


def test_the_list_filters_by_status_including_expired(staff_client, link):
    PaymentLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(hours=1))
    url = reverse("payment_link_list", args=["acme"])
    assert "Expired" in staff_client.get(url, {"status": "expired"}).text
    assert "No payment links with this status" in staff_client.get(url, {"status": "open"}).text


def test_the_hosted_page_shows_business_bookings_and_amount(client, link, settings):
    response = client.get(link.get_absolute_url())
    text = response.text
    assert response.status_code == 200
    assert "Acme" in text and "Your two visits" in text and "Pay $74.99" in text
    assert "Teeth cleaning" in text and "$49.99" in text and "$25.00" in text
    assert "Save this card for future payments" in text
    assert settings.STRIPE_JS_URL in text
    assert "<script>" not in text  # no inline scripts: data goes in data- attributes
    assert link.connection.secret_key not in text


def test_the_hosted_page_sets_a_strict_content_security_policy(client, link, sandbox):
    policy = client.get(link.get_absolute_url())["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["script-src"] == f"'self' https://js.stripe.com {sandbox.url}"
    assert directives["frame-src"] == (
        f"'self' https://js.stripe.com https://hooks.stripe.com {sandbox.url}"
    )
    assert directives["connect-src"] == f"'self' https://api.stripe.com {sandbox.url}"
    assert directives["default-src"] == "'self'"
    assert "unsafe-inline" not in policy


def test_the_csp_names_only_stripe_when_stripe_itself_is_configured(client, link, settings):
    settings.STRIPE_JS_URL = "https://js.stripe.com/v3/"
    settings.STRIPE_API_BASE = "https://api.stripe.com"
    policy = client.get(link.get_absolute_url())["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["script-src"] == "'self' https://js.stripe.com"
    assert "127.0.0.1" not in policy


@pytest.mark.parametrize("state", ["expired", "cancelled", "paid"])
def test_a_closed_link_says_so_and_issues_no_client_secret(client, link, state):
    if state == "expired":
        PaymentLink.objects.filter(pk=link.pk).update(expires_at=timezone.now())
    else:
        PaymentLink.objects.filter(pk=link.pk).update(status=state)

    page = client.get(link.get_absolute_url())
    answer = client.post(reverse("public_pay_intent", args=[link.token]))

    assert page.status_code == 200
    assert (
        f"This payment link has {state}" in page.text
        or f"was {state}" in page.text
        or ("has been paid" in page.text)
    )
    assert "data-pay-form" not in page.text and "stripe" not in page.text.split("<body")[0]
    assert answer.status_code == 200 and "client_secret" not in answer.json()
    assert not Payment.objects.exists()


def test_an_unknown_token_is_404(client, db):
    assert client.get("/pay/nope/").status_code == 404


def test_the_intent_is_one_per_link_whatever_repeats(client, link, stripe_client):
    url = reverse("public_pay_intent", args=[link.token])
    first, second = client.post(url).json(), client.post(url).json()
    assert first["client_secret"] == second["client_secret"]
    assert len(stripe_client.v1.payment_intents.list().data) == 1
    payment = Payment.objects.get()
    assert payment.source == "payment_link" and payment.amount == 7499


def test_the_intent_requests_are_rate_limited_per_address(client, link):
    url = reverse("public_pay_intent", args=[link.token])
    answers = [client.post(url, REMOTE_ADDR="203.0.113.9").status_code for _ in range(11)]
    other = client.post(url, REMOTE_ADDR="203.0.113.10")

    assert answers[:10] == [200] * 10 and answers[10] == 429
    assert (
        "Too many payment attempts" in client.post(url, REMOTE_ADDR="203.0.113.9").json()["error"]
    )
    assert other.status_code == 200


def _pay(client, link, stripe_client, card="pm_card_visa"):
    """What Stripe.js does in the page: get the client secret, confirm with a card."""
    client.post(reverse("public_pay_intent", args=[link.token]))
    payment = Payment.objects.get()
    stripe_client.v1.payment_intents.confirm(
        payment.stripe_payment_intent_id, params={"payment_method": card}
    )
    return payment


def test_paying_then_returning_shows_success_and_charges_the_bookings(
    client, link, stripe_client, owner, django_capture_on_commit_callbacks
):
    _pay(client, link, stripe_client)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(reverse("public_pay_return", args=[link.token]))

    assert response["Location"] == reverse("public_pay_done", args=[link.token])
    done = client.get(response["Location"])
    assert "Payment successful" in done.text and "$74.99" in done.text
    link.refresh_from_db()
    assert link.status == "paid"
    assert {b.get_payment_status_display() for b in link.appointments.all()} == {"Charged in Full"}
    subjects = sorted(m.subject for m in mail.outbox)
    assert subjects == ["Jane Cooper paid $74.99", "Your receipt from Acme"]
    assert "This link has been paid" in client.get(link.get_absolute_url()).text


def test_returning_before_paying_goes_back_to_the_page(client, link):
    response = client.get(reverse("public_pay_return", args=[link.token]))
    assert response["Location"] == link.get_absolute_url()
    assert client.get(reverse("public_pay_done", args=[link.token])).status_code == 302


def _event(intent: dict) -> dict:
    return {
        "id": f"evt_{intent['id']}", "object": "event", "type": "payment_intent.succeeded",
        "api_version": "2026-10-28.endive", "created": int(time.time()), "livemode": False,
        "request": {"id": None}, "data": {"object": intent},
    }  # fmt: skip


def test_the_webhook_confirms_a_link_payment_the_customer_never_returned_from(
    client, link, connection, stripe_client, owner, django_capture_on_commit_callbacks
):
    endpoint = webhook_secret_set(connection=connection, secret=HOOK_SECRET)
    payment = _pay(client, link, stripe_client)
    intent = stripe_client.v1.payment_intents.retrieve(payment.stripe_payment_intent_id)
    body = json.dumps(_event(intent.to_dict())).encode()

    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(reverse("stripe_webhook", args=[endpoint.uuid]), data=body,
                             content_type="application/json",
                             HTTP_STRIPE_SIGNATURE=signature(body, HOOK_SECRET))  # fmt: skip

    assert answer.status_code == 200
    payment.refresh_from_db()
    link.refresh_from_db()
    assert payment.status == "succeeded" and link.status == "paid"
    assert all(b.payment_status == "charged_in_full" for b in link.appointments.all())
    assert len(mail.outbox) == 2

    # The customer's return page afterwards changes nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        client.get(reverse("public_pay_return", args=[link.token]))
    assert len(mail.outbox) == 2
    assert [m.subject for m in mail.outbox].count("Jane Cooper paid $74.99") == 1
    assert payment.events.filter(kind="webhook").count() == 1
    assert not payment.events.filter(kind="return page").exists()


def test_behind_a_proxy_one_visitors_requests_leave_anothers_budget(settings, client, link):
    settings.TRUSTED_PROXY_COUNT = 1
    url = reverse("public_pay_intent", args=[link.token])
    via = {"REMOTE_ADDR": "10.0.0.5"}  # the proxy
    answers = [
        client.post(url, HTTP_X_FORWARDED_FOR="198.51.100.7", **via).status_code for _ in range(11)
    ]
    other = client.post(url, HTTP_X_FORWARDED_FOR="198.51.100.8", **via)
    assert answers[10] == 429 and other.status_code == 200
