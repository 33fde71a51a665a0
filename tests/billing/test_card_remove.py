"""Removing a contact's saved card: a confirmation page, then Stripe's detach, audited.

Through the Stripe sandbox: the card is really taken off the customer, pressing twice
detaches nothing more, and a card of another customer is refused with nothing detached.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from billing.services.cards import CARD_REMOVE
from portal import perms
from portal.models import AuditEntry
from tests.billing.conftest import attach, default_card
from tests.conftest import saved_customer
from tests.factories import ContactFactory, MembershipFactory, RoleFactory, UserFactory

pytestmark = pytest.mark.django_db


def _url(contact, payment_method: str) -> str:
    return reverse("contact_card_remove", args=["acme", contact.uuid, payment_method])


def _saved(stripe_client, contact) -> list[str]:
    listing = stripe_client.v1.payment_methods.list(
        params={"customer": contact.stripe_customer_id, "type": "card"}
    )
    return [pm.id for pm in listing.data]


def test_the_page_asks_first_and_detaches_nothing(contact, stripe_client, staff_client):
    card = default_card(stripe_client, contact)

    response = staff_client.get(_url(contact, card))

    assert response.status_code == 200
    assert "Remove Visa •••• 4242?" in response.text
    assert "default card" in response.text
    assert '<form method="post"' in response.text and "Keep it" in response.text
    assert _saved(stripe_client, contact) == [card]
    assert not AuditEntry.objects.filter(action=CARD_REMOVE).exists()


def test_confirming_detaches_the_card_at_stripe_and_audits_it(
    contact, stripe_client, staff_client, staff
):
    keep = attach(stripe_client, contact, "pm_card_mastercard")
    card = default_card(stripe_client, contact)

    response = staff_client.post(_url(contact, card), follow=True)

    assert response.redirect_chain[-1][0] == contact.get_absolute_url()
    assert "Visa •••• 4242 removed" in response.text
    assert _saved(stripe_client, contact) == [keep]
    assert stripe_client.v1.payment_methods.retrieve(card).customer is None
    assert "Visa •••• 4242" not in response.text.split('id="cards"')[1].split("</section>")[0]
    entry = AuditEntry.objects.get(action=CARD_REMOVE)
    assert entry.actor == staff and entry.workspace == contact.workspace
    assert "Visa •••• 4242" in entry.summary and "Jane Cooper" in entry.summary
    assert entry.get_action_display() == "Saved card removed"  # how the audit log names it


def test_pressing_remove_twice_detaches_once_and_says_it_is_gone(
    contact, stripe_client, staff_client
):
    card = default_card(stripe_client, contact)
    staff_client.post(_url(contact, card))

    again = staff_client.post(_url(contact, card), follow=True)

    assert again.status_code == 200
    assert "That card was removed already." in again.text
    assert _saved(stripe_client, contact) == []
    assert AuditEntry.objects.filter(action=CARD_REMOVE).count() == 1
    # The confirmation page of a card gone is not found.
    assert staff_client.get(_url(contact, card)).status_code == 404


def test_a_card_of_another_customer_is_404_and_nothing_is_detached(
    workspace, contact, stripe_client, staff_client
):
    other_customer = saved_customer(stripe_client, "pm_card_mastercard", email="x@example.com")
    ContactFactory(workspace=workspace, stripe_customer_id=other_customer)
    theirs = stripe_client.v1.customers.retrieve(
        other_customer
    ).invoice_settings.default_payment_method

    assert staff_client.get(_url(contact, theirs)).status_code == 404
    assert staff_client.post(_url(contact, theirs)).status_code == 404

    assert stripe_client.v1.payment_methods.retrieve(theirs).customer == other_customer
    assert len(_saved(stripe_client, contact)) == 1
    assert not AuditEntry.objects.filter(action=CARD_REMOVE).exists()


def test_an_unknown_card_is_404(contact, staff_client):
    assert staff_client.post(_url(contact, "pm_doesnotexist")).status_code == 404


def test_a_contact_of_another_workspace_is_404_for_its_card(
    contact, stripe_client, outsider, as_user
):
    card = default_card(stripe_client, contact)
    url = reverse("contact_card_remove", args=["globex", contact.uuid, card])
    assert as_user(outsider).post(url).status_code == 404
    assert _saved(stripe_client, contact) == [card]


def test_without_billing_charge_removing_is_403_and_detaches_nothing(
    workspace, contact, stripe_client, viewer, as_user
):
    card = default_card(stripe_client, contact)
    readable = [perms.CONTACTS_VIEW, perms.STRIPE_READ]
    role = RoleFactory(workspace=workspace, name="Reader", permissions=readable)
    reader = UserFactory(username="reader@acme.test")
    MembershipFactory(user=reader, workspace=workspace, roles=[role])

    for user in (viewer, reader):
        client = as_user(user)
        assert client.get(_url(contact, card)).status_code == 403
        assert client.post(_url(contact, card)).status_code == 403
    assert _saved(stripe_client, contact) == [card]
