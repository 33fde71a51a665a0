"""Each card brand of the seed charges once through the card-on-file service."""

from __future__ import annotations

import uuid

import pytest

from billing.services.charges import charge_card_on_file

BRANDS = [
    ("pm_card_visa", "visa"),
    ("pm_card_mastercard", "mastercard"),
    ("pm_card_amex", "amex"),
    ("pm_card_discover", "discover"),
    ("pm_card_diners", "diners"),
    ("pm_card_jcb", "jcb"),
]


@pytest.mark.parametrize(("card", "brand"), BRANDS)
def test_each_brand_is_charged_once(workspace, contact, staff, stripe_client, card, brand):
    method = stripe_client.v1.payment_methods.attach(
        card, params={"customer": contact.stripe_customer_id}
    )
    assert method.card.brand == brand

    payment = charge_card_on_file(workspace=workspace, contact=contact,
                                  payment_method_id=method.id, amount=2500, currency="usd",
                                  description=brand, user=staff, attempt=uuid.uuid4())  # fmt: skip

    assert payment.status == "succeeded"
    intents = stripe_client.v1.payment_intents.list().data
    assert len(intents) == 1 and intents[0].payment_method == method.id
