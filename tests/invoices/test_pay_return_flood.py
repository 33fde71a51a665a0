"""The payer's return page (after Stripe.js confirmed a new card) asks Stripe about a settled
payment never again, and about an unsettled one at most once per few seconds, however often
it is loaded; it still says how the payment went."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from django.urls import reverse

import billing.services.charges as charges

pytestmark = pytest.mark.django_db
INTENTS = "/v1/payment_intents*"


def _new_card_attempt(client, work_item) -> dict:
    data = {"action": "pay", "attempt": str(uuid.uuid4()), "amount": "50", "method": "card",
            "payment_method": "new"}  # fmt: skip
    url = reverse("work_item_pay", args=["acme", work_item.uuid])
    response = client.post(url, data, HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    return json.loads(response.content)


def test_a_flood_of_the_payers_return_page_asks_stripe_once_per_state(
    work_item, payer, as_user, sandbox, stripe_client
):
    client = as_user(payer)
    data = _new_card_attempt(client, work_item)
    before = len(sandbox.control.requests(path=INTENTS))

    started = time.monotonic()
    for _ in range(100):  # before paying: pending
        page = client.get(data["return_url"], follow=True)
        assert "is not confirmed yet" in page.text
    pending_calls = len(sandbox.control.requests(path=INTENTS)) - before
    elapsed = time.monotonic() - started
    assert 1 <= pending_calls <= elapsed // charges.REFRESH_PER_PAYMENT.window + 1

    intent_id = data["client_secret"].split("_secret_")[0]
    stripe_client.v1.payment_intents.confirm(intent_id, params={"payment_method": "pm_card_visa"})
    time.sleep(charges.REFRESH_PER_PAYMENT.window)  # the next return may ask again
    page = client.get(data["return_url"], follow=True)
    assert "Paid $50.00. The invoice is now Partially paid." in page.text
    paid_at = len(sandbox.control.requests(path=INTENTS))

    for _ in range(100):  # paid: the ledger answers
        client.get(data["return_url"])
    assert len(sandbox.control.requests(path=INTENTS)) == paid_at
