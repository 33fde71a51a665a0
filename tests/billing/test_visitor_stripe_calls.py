"""Strangers cannot spend the workspace's Stripe rate: the payment link's pages, which anyone
with the link can load as often as they like, answer a settled payment from the ledger with no
Stripe call, ask Stripe about an unsettled one at most once per few seconds per link (and a
few times per address), and their calls leave the rate limit's reserve to staff and
workflows. What the visitor sees is unchanged: paid, failed (the page again), processing."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.db import connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

import billing.services.charges as charges
from billing.models import Payment, PaymentLink
from billing.services.links import payment_link_create
from integrations.gateway.rate_limit import for_visitors
from portal.ratelimit import RateLimit

pytestmark = pytest.mark.django_db
INTENTS = "/v1/payment_intents*"  # every call about intents: create, retrieve, cancel


def _intent_calls(sandbox) -> int:
    return len(sandbox.control.requests(path=INTENTS))


def _addresses():
    n = 0
    while True:
        n += 1
        yield f"198.18.{n // 250 % 250}.{n % 250 + 1}"


def _open(client, link, address="203.0.113.4") -> Payment:
    """The customer opens the page: Stripe.js asks for the intent."""
    url = reverse("public_pay_intent", args=[link.token])
    assert client.post(url, REMOTE_ADDR=address).status_code == 200
    return Payment.objects.get(link=link)


def _confirm(stripe_client, payment, card="pm_card_visa") -> None:
    """What Stripe.js does in the page."""
    stripe_client.v1.payment_intents.confirm(
        payment.stripe_payment_intent_id, params={"payment_method": card}
    )


def _return(client, link, address="203.0.113.5"):
    return client.get(reverse("public_pay_return", args=[link.token]), REMOTE_ADDR=address)


def test_a_flood_of_a_paid_links_return_page_asks_stripe_nothing(
    client, link, stripe_client, sandbox
):
    payment = _open(client, link)
    _confirm(stripe_client, payment)
    first = _return(client, link)
    assert first["Location"] == reverse("public_pay_done", args=[link.token])
    before = _intent_calls(sandbox)

    addresses = _addresses()
    answers = {_return(client, link, next(addresses))["Location"] for _ in range(200)}

    assert answers == {reverse("public_pay_done", args=[link.token])}
    assert _intent_calls(sandbox) == before  # the ledger answered every one


def test_a_flood_of_a_pending_links_return_page_asks_stripe_a_handful_of_times(
    client, link, sandbox
):
    payment = _open(client, link)
    before = _intent_calls(sandbox)
    addresses = _addresses()

    started = time.monotonic()
    answers = {_return(client, link, next(addresses))["Location"] for _ in range(200)}
    elapsed = time.monotonic() - started

    assert answers == {link.get_absolute_url()}  # not paid: the page again
    calls = _intent_calls(sandbox) - before
    window = charges.REFRESH_PER_PAYMENT.window
    assert 1 <= calls <= elapsed // window + 1, (calls, elapsed)
    payment.refresh_from_db()
    assert payment.status == "pending"


def test_one_address_asks_stripe_a_few_times_whatever_links_it_loads(
    client, workspace, connection, contact, sandbox
):
    links = [
        payment_link_create(workspace=workspace, contact=contact, amount=1000 + n,
                            currency="usd", description=f"Visit {n}")
        for n in range(charges.REFRESH_PER_ADDRESS.limit + 3)
    ]  # fmt: skip
    for n, link in enumerate(links):
        _open(client, link, f"203.0.113.{100 + n}")
    before = _intent_calls(sandbox)

    for link in links:
        assert _return(client, link, "203.0.113.77").status_code == 302
    assert _intent_calls(sandbox) - before == charges.REFRESH_PER_ADDRESS.limit
    _return(client, links[-1], "203.0.113.78")  # another visitor's address: asked
    assert _intent_calls(sandbox) - before == charges.REFRESH_PER_ADDRESS.limit + 1


@pytest.mark.django_db(transaction=True)
def test_many_threads_on_one_link_make_at_most_a_few_stripe_calls(
    workspace, connection, contact, stripe_client, sandbox
):
    """As in production: many visitors at once, each request in its own thread and database
    connection. Paid, no call at all; pending, one per window."""
    paid = payment_link_create(workspace=workspace, contact=contact, amount=7499,
                               currency="usd", description="Paid")  # fmt: skip
    pending = payment_link_create(workspace=workspace, contact=contact, amount=2500,
                                  currency="usd", description="Pending")  # fmt: skip
    client = Client()
    _confirm(stripe_client, _open(client, paid))
    assert _return(client, paid)["Location"].endswith("/done/")
    _open(client, pending)

    def flood(link) -> tuple[int, set[int]]:
        before, statuses = _intent_calls(sandbox), set()

        def visitor(n: int) -> None:
            try:
                mine = Client()
                for k in range(10):
                    statuses.add(_return(mine, link, f"198.18.{n}.{k + 1}").status_code)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=visitor, args=(n,)) for n in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return _intent_calls(sandbox) - before, statuses

    started = time.monotonic()
    assert flood(paid) == (0, {302})
    calls, statuses = flood(pending)
    elapsed = time.monotonic() - started
    assert statuses == {302}
    assert 1 <= calls <= elapsed // charges.REFRESH_PER_PAYMENT.window + 1, (calls, elapsed)


def test_the_visitor_still_sees_paid_and_failed(client, link, stripe_client, monkeypatch):
    """A decline, then another card moments later: the page says so each time, once the
    per-link window (shortened here) lets it ask Stripe again."""
    monkeypatch.setattr(charges, "REFRESH_PER_PAYMENT", RateLimit("refresh-test", 1, 1))
    payment = _open(client, link)
    with pytest.raises(Exception, match="declined"):
        _confirm(stripe_client, payment, "pm_card_chargeDeclined")
    assert _return(client, link)["Location"] == link.get_absolute_url()
    payment.refresh_from_db()
    assert payment.status == "failed"
    page = client.get(link.get_absolute_url())
    assert "Pay $74.99" in page.text  # the form, to try another card

    _confirm(stripe_client, payment)
    # Within the window the ledger answers (still failed); the webhook would tell us too.
    assert _return(client, link)["Location"] == link.get_absolute_url()
    time.sleep(1.1)
    assert _return(client, link)["Location"] == reverse("public_pay_done", args=[link.token])
    assert "Payment successful" in client.get(reverse("public_pay_done", args=[link.token])).text


def test_a_processing_payment_is_shown_from_the_ledger(client, link, sandbox):
    payment = _open(client, link)
    Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.PROCESSING)
    charges.REFRESH_PER_PAYMENT.hit(str(payment.pk))  # another visitor just asked Stripe
    before = _intent_calls(sandbox)

    answer = _return(client, link)
    page = client.get(answer["Location"])

    assert "Your payment is being processed" in page.text
    assert _intent_calls(sandbox) == before


def test_the_return_pages_calls_are_a_visitors(client, link, monkeypatch):
    """They leave the rate limit's reserve to staff and workflows."""
    seen = []
    retrieve = charges.payment_intent_retrieve

    def spy(*args, **kwargs):
        seen.append(for_visitors())
        return retrieve(*args, **kwargs)

    monkeypatch.setattr(charges, "payment_intent_retrieve", spy)
    _open(client, link)
    _return(client, link)
    assert seen == [True]


def test_a_flood_of_an_expired_links_page_cancels_its_intent_once(client, link, sandbox):
    _open(client, link)
    PaymentLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - dt.timedelta(1))
    before = _intent_calls(sandbox)
    addresses = _addresses()

    pages = [client.get(link.get_absolute_url(), REMOTE_ADDR=next(addresses)) for _ in range(100)]

    assert {p.status_code for p in pages} == {200}
    assert all("This payment link has expired" in p.text for p in pages)
    assert _intent_calls(sandbox) - before == 1  # the cancel; then the ledger says canceled


def test_the_intent_is_asked_for_a_bounded_number_of_times_per_link(client, link, sandbox):
    url = reverse("public_pay_intent", args=[link.token])
    addresses = _addresses()
    answers = [client.post(url, REMOTE_ADDR=next(addresses)) for _ in range(25)]
    limit = 20
    assert [a.status_code for a in answers] == [200] * limit + [429] * 5
    assert "tried too often" in answers[-1].json()["error"]
    assert len(sandbox.control.requests(path="/v1/payment_intents", method="POST")) == limit
