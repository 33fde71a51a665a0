"""A payer whose Stripe customer was deleted (customer.deleted) can pay again: the profile
forgets it, and the next payment makes a new customer under a new key (the old key would
hand back the deleted one)."""

from __future__ import annotations

import pytest

from integrations.services import webhook_secret_set
from invoices.models import PayerProfile
from invoices.payments import invoice_pay_card, payer_customer
from tests.automation.test_stripe_trigger import SECRET, deliver  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def test_a_deleted_payer_customer_is_replaced_and_the_payer_can_pay(
    work_item,
    payer,
    connection,
    sandbox,
    deliver,  # noqa: F811
):
    client = sandbox.client(connection.secret_key)
    first = payer_customer(user=payer, connection=connection)
    client.v1.customers.delete(first)
    endpoint = webhook_secret_set(connection=connection, secret=SECRET)
    deliver(endpoint, {
        "id": "evt_payer_deleted", "object": "event", "type": "customer.deleted",
        "created": 1700000000, "livemode": False,
        "data": {"object": {"id": first, "object": "customer", "deleted": True}},
    })  # fmt: skip
    assert PayerProfile.objects.get(user=payer).stripe_customer_id == ""

    second = payer_customer(user=payer, connection=connection)
    assert second != first and not getattr(client.v1.customers.retrieve(second), "deleted", False)
    card = client.v1.payment_methods.attach("pm_card_visa", params={"customer": second}).id
    result = invoice_pay_card(work_item=work_item, payer=payer, amount=2000, payment_method_id=card)
    assert result.attempt.status == "succeeded"
    assert payer_customer(user=payer, connection=connection) == second  # kept from now on
