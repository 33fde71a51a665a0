"""The payment pages under hostile input: the hosted payment-link page and its intent
(/pay/<token>/...) and the invoice payer's pay form. Never a 5xx; Stripe is called and the
ledger written only for a valid request, and once; a refused one shows why next to the field."""

from __future__ import annotations

import uuid
from urllib.parse import quote

import pytest
from django.core.cache import cache
from hypothesis import event, example, given, note, settings
from hypothesis import strategies as st

from billing.models import Payment
from billing.services.links import payment_link_create
from invoices.models import InvoicePayment, WorkItem
from invoices.payments import payer_customer
from portal.money import parse_amount
from tests.reliability.conftest import INTENTS, example_savepoint, invoice, process, work_item
from tests.reliability.hostile import (
    HOSTILE,
    assert_errors_next_to_fields,
    examples,
    fresh_address,
    one_field_changed,
    text,
    values,
)

__all__ = ["invoice", "process", "work_item"]  # fixtures of the pay form
pytestmark = pytest.mark.django_db
CONTENT_TYPES = ["application/json", "application/x-www-form-urlencoded", "text/plain", "",
                 "multipart/form-data; boundary=x"]  # fmt: skip
PAGES = ("/pay/{}/", "/pay/{}/intent/", "/pay/{}/return/", "/pay/{}/done/")


def _intent_posts(sandbox) -> int:
    return len(sandbox.control.requests(path=INTENTS, method="POST"))


@pytest.fixture
def link(workspace, connection, contact, staff):
    return payment_link_create(
        workspace=workspace, contact=contact, amount=7499, currency="usd",
        description="Your visit", appointments=[], user=staff,
    )  # fmt: skip


@HOSTILE
@given(token=st.one_of(text, values).filter(lambda t: t.strip("/.")), page=st.sampled_from(PAGES))
@example(token="\x00", page="/pay/{}/intent/")
@example(token="x" * 5000, page="/pay/{}/")
def test_an_unknown_token_is_404_and_calls_no_stripe(client, link, sandbox, token, page):
    url = page.format(quote(token, safe=""))
    before = Payment.objects.count(), _intent_posts(sandbox)
    method = client.post if page.endswith("/intent/") else client.get
    response = method(url, REMOTE_ADDR=fresh_address())
    assert response.status_code == 404 or token == link.token
    assert (Payment.objects.count(), _intent_posts(sandbox)) == before


@settings(HOSTILE, max_examples=examples(50))  # each example asks Stripe for the intent again
@given(body=st.one_of(st.binary(max_size=2000), text.map(str.encode)),
       content_type=st.sampled_from(CONTENT_TYPES))  # fmt: skip
def test_any_body_posted_to_the_intent_gets_the_one_intent_of_the_link(
    client, link, stripe_client, body, content_type
):
    url = f"/pay/{link.token}/intent/"
    cache.clear()  # each example a new visitor of a link not tried too often yet
    response = client.post(url, body, content_type, REMOTE_ADDR=fresh_address())
    assert response.status_code == 200 and response.json()["client_secret"]
    assert Payment.objects.count() == 1
    assert len(stripe_client.v1.payment_intents.list().data) == 1


@pytest.fixture
def card(sandbox, connection, payer) -> str:
    """A card saved for the payer (once per test: it is in the sandbox, not rolled back)."""
    customer = payer_customer(user=payer, connection=connection)
    client = sandbox.client(connection.secret_key)
    return client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer}).id


GOOD = {"action": "pay", "amount": "80", "method": "card", "payment_method": "CARD",
        "attempt": "TOKEN"}  # fmt: skip


@settings(HOSTILE, max_examples=examples(60))  # each example asks Stripe for the payer's cards
@given(data=one_field_changed(GOOD, st.one_of(values, st.sampled_from(["card", "ach", "new"]))),
       wants_json=st.booleans())  # fmt: skip
@example(data={**GOOD, "amount": "9" * 40}, wants_json=False)
@example(data={**GOOD, "attempt": "not-a-uuid"}, wants_json=False)
@example(data={**GOOD, "method": "ach"}, wants_json=False)  # no bank yet: said next to the field
def test_the_pay_form_pays_once_or_refuses_next_to_the_field(
    payer_client, work_item, card, sandbox, data, wants_json
):
    # The page's token, new for each example (each is a new page).
    fill = {"CARD": card, "TOKEN": str(uuid.uuid4())}
    data = {k: fill.get(v, v) if isinstance(v, str) else v for k, v in data.items()}
    headers = {"HTTP_ACCEPT": "application/json"} if wants_json else {}
    with example_savepoint():
        # A new name for the item in each example: its attempts' idempotency keys are new too.
        item = uuid.uuid4()
        WorkItem.objects.filter(pk=work_item.pk).update(uuid=item)
        before = InvoicePayment.objects.count(), Payment.objects.count(), _intent_posts(sandbox)
        response = payer_client.post(f"/w/acme/to-pay/{item}/pay/", data, **headers)
        event(f"answered {response.status_code}")
        after = InvoicePayment.objects.count(), Payment.objects.count(), _intent_posts(sandbox)
        note(f"{response.status_code} {response.content[:300]!r} {before} -> {after}")
        if data.get("action", "pay") != "pay":  # another form of the page, or none: the page again
            assert response.status_code == 200 and after == before
        elif after != before:  # paid with the saved card, or a new card's client secret
            assert response.status_code in (302, 200)
            assert after == (before[0] + 1, before[1] + 1, before[2] + 1)
            assert InvoicePayment.objects.latest("id").amount == parse_amount(data["amount"], "usd")
        elif wants_json:  # the JSON answer to the page's script
            assert response.status_code == 400 and response.json()["errors"]
        else:
            assert response.status_code == 200
            assert_errors_next_to_fields(response.text, response.context["form"].errors)


@pytest.fixture
def payer_client(as_user, payer):
    return as_user(payer)
