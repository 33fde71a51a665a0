"""A contact whose Stripe customer was deleted can be charged again: the customer made for it
next is a new one (a new idempotency key), not Stripe's replay of the deleted one; a double
click still makes one customer."""

from __future__ import annotations

import uuid

from django.urls import reverse

from billing.models import Payment
from billing.services.charges import contact_customer_ensure
from portal.models import Contact
from portal.services import contacts_stripe_customer_forget
from tests.billing.conftest import charge_url
from tests.factories import ContactFactory


def _new_card_intent(client, contact) -> dict:
    data = {"tab": "new", "attempt": str(uuid.uuid4()), "amount": "12.00", "currency": "USD"}
    response = client.post(charge_url(contact, "new"), data)
    assert response.status_code == 200, response.content
    return response.json()


def test_a_customer_deleted_in_the_portal_is_replaced_by_a_new_one(
    workspace, connection, stripe_client, staff_client, owner, as_user
):
    jane = ContactFactory(workspace=workspace, name="Jane", email="jane@example.com")
    _new_card_intent(staff_client, jane)
    jane.refresh_from_db()
    first = jane.stripe_customer_id
    assert first

    response = as_user(owner).post(reverse("stripe_customer_delete", args=["acme", first]))
    assert response.status_code == 302
    jane.refresh_from_db()
    assert jane.stripe_customer_id == ""

    _new_card_intent(staff_client, jane)  # charged again, by a new card
    jane.refresh_from_db()
    second = jane.stripe_customer_id
    assert second and second != first
    assert not getattr(stripe_client.v1.customers.retrieve(second), "deleted", False)
    latest = Payment.objects.latest("id")
    assert latest.stripe_customer_id == second or not latest.stripe_customer_id
    intent = stripe_client.v1.payment_intents.retrieve(latest.stripe_payment_intent_id)
    assert intent.customer == second


def test_a_double_click_makes_one_customer_and_a_deletion_by_webhook_a_new_one(
    workspace, connection, stripe_client
):
    jane = ContactFactory(workspace=workspace, name="Jane", email="jane@example.com")
    stale = Contact.objects.get(pk=jane.pk)  # the second click's copy, loaded meanwhile
    first = contact_customer_ensure(contact=jane, connection=connection)
    assert contact_customer_ensure(contact=stale, connection=connection) == first
    assert len(stripe_client.v1.customers.list().data) == 1

    stripe_client.v1.customers.delete(first)
    # What the customer.deleted webhook does; `jane` is now a copy from before it.
    assert contacts_stripe_customer_forget(workspace_id=workspace.pk, customer_id=first) == 1
    jane.stripe_customer_id = ""
    second = contact_customer_ensure(contact=jane, connection=connection)
    assert second != first
    assert not getattr(stripe_client.v1.customers.retrieve(second), "deleted", False)
    again = Contact.objects.get(pk=jane.pk)
    assert again.stripe_customer_id == second
    again.stripe_customer_id = ""  # a double click of the re-creation: still that one
    assert contact_customer_ensure(contact=again, connection=connection) == second
