"""The audit trail of money: a charge (card on file, new card, a workflow's) is recorded when
its payment is created, a refund once Stripe made it, a payment link when made, sent, sent
again and cancelled; with who and from where. Refusals record nothing."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from automation.services.runs import runs_start_for_trigger
from billing.models import Payment, PaymentLink
from portal.models import AuditEntry
from tests.audit_helpers import CLIENT_ADDRESS, entries, everything_stored, only
from tests.automation.conftest import charge_step, publish
from tests.billing.conftest import card_on_file, charge_url, default_card

Action = AuditEntry.Action


def test_a_card_on_file_charge_records_who_from_where_and_what(
    staff_client, staff, contact, stripe_client
):
    card_on_file(staff_client, contact, default_card(stripe_client, contact), amount="49.99")

    payment = Payment.objects.get()
    entry = only(Action.PAYMENT_CHARGE)
    assert (entry.actor, entry.actor_label, entry.address) == (staff, staff.email, CLIENT_ADDRESS)
    assert entry.summary == "Charge of $49.99 to Jane Cooper (card on file)"
    assert entry.changes["amount"] == {"before": None, "after": "$49.99"}
    assert (entry.object_type, entry.object_id) == ("billing.payment", str(payment.uuid))


def test_the_same_form_sent_twice_is_one_entry(staff_client, contact, stripe_client):
    card, attempt = default_card(stripe_client, contact), uuid.uuid4()
    card_on_file(staff_client, contact, card, attempt=attempt, amount="1.00")
    card_on_file(staff_client, contact, card, attempt=attempt, amount="1.00")
    assert len(entries(Action.PAYMENT_CHARGE)) == 1


def test_a_refused_charge_records_nothing(staff_client, contact, stripe_client):
    card = default_card(stripe_client, contact)
    card_on_file(staff_client, contact, card, amount="1.00")
    # A fresh form repeating it, not confirmed as meant: refused before any payment.
    asked = card_on_file(staff_client, contact, card, amount="1.00")
    assert "Yes, charge again" in asked.text
    card_on_file(staff_client, contact, card, amount="0.00")  # below Stripe's minimum
    assert len(entries(Action.PAYMENT_CHARGE)) == 1 == Payment.objects.count()


def test_a_new_card_payment_is_recorded_when_it_is_created(staff_client, staff, contact):
    data = {"tab": "new", "attempt": str(uuid.uuid4()), "amount": "12.00", "currency": "USD",
            "description": "New card"}  # fmt: skip
    assert staff_client.post(charge_url(contact, "new"), data).json()["client_secret"]

    entry = only(Action.PAYMENT_CHARGE)
    assert entry.actor == staff and entry.address == CLIENT_ADDRESS
    assert entry.summary == "Charge of $12.00 to Jane Cooper (new card)"
    assert "_secret_" not in everything_stored()  # the client secret is nobody's business


def test_a_workflows_charge_names_the_workflow(
    workspace, connection, contact, django_capture_on_commit_callbacks
):
    publish(workspace, [charge_step(connection)], max_amount_per_day=100_00)
    with django_capture_on_commit_callbacks(execute=True):  # the run executes on commit
        (run,) = runs_start_for_trigger(workspace=workspace, trigger_type="manual",
                                        trigger={"type": "manual"}, cause="audit:1",
                                        contact=contact)  # fmt: skip
    run.refresh_from_db()
    assert run.status == "succeeded"

    entry = only(Action.PAYMENT_CHARGE)
    assert entry.actor is None and entry.actor_label == "workflow Pay per lead"
    assert entry.address is None and entry.summary.endswith("(workflow)")


@pytest.fixture
def paid(staff_client, contact, stripe_client):
    card_on_file(staff_client, contact, default_card(stripe_client, contact), amount="50.00")
    return Payment.objects.get()


def _refund(client, payment, amount):
    url = reverse("payment_refund", args=["acme", payment.uuid])
    data = {"attempt": str(uuid.uuid4()), "amount": amount, "reason": "requested_by_customer",
            "confirmed": "on"}  # fmt: skip
    return client.post(url, data)


def test_a_refund_is_recorded_once_stripe_made_it(staff_client, staff, paid):
    assert _refund(staff_client, paid, "30.00").status_code == 302

    entry = only(Action.PAYMENT_REFUND)
    assert entry.actor == staff and entry.address == CLIENT_ADDRESS
    assert entry.summary == (
        "Refunded $30.00 of Jane Cooper's payment of $50.00 (requested_by_customer)"
    )
    assert entry.changes == {"refunded": {"before": "$0.00", "after": "$30.00"}}


def test_a_refused_refund_records_nothing(staff_client, paid):
    assert "At most $50.00 can be refunded." in _refund(staff_client, paid, "50.01").text
    assert entries(Action.PAYMENT_REFUND) == []


def _link_form(client, contact, **extra):
    data = {"tab": "link", "attempt": str(uuid.uuid4()), "amount": "74.99", "currency": "USD",
            "description": "Your visits", "expires_days": "7", **extra}  # fmt: skip
    return client.post(charge_url(contact, "link"), data)


def test_a_link_made_sent_sent_again_and_cancelled_is_four_entries(
    staff_client, staff, contact, connection
):
    assert _link_form(staff_client, contact).status_code == 302
    link = PaymentLink.objects.get()
    send = reverse("payment_link_send", args=["acme", link.uuid])
    staff_client.post(send, {"sent_count": "0"})
    staff_client.post(send, {"sent_count": "0"})  # the same button twice: sent once
    staff_client.post(send, {"sent_count": "1"})
    staff_client.post(reverse("payment_link_cancel", args=["acme", link.uuid]))

    made, sent, again, cancelled = entries(prefix="link.")
    assert [e.action for e in (made, sent, again, cancelled)] == [
        Action.LINK_CREATE, Action.LINK_SEND, Action.LINK_SEND, Action.LINK_CANCEL
    ]  # fmt: skip
    assert all(e.actor == staff and e.address == CLIENT_ADDRESS for e in entries(prefix="link."))
    assert made.summary == "Payment link of $74.99 for Jane Cooper"
    assert sent.summary == "Payment link of $74.99 sent to jane@example.com"
    assert again.summary == "Payment link of $74.99 sent again to jane@example.com"
    assert cancelled.summary == "Payment link of $74.99 for Jane Cooper cancelled"
    assert cancelled.changes == {"status": {"before": "open", "after": "cancelled"}}
    assert link.token not in everything_stored()  # the link's secret is not in the trail


def test_a_refused_link_records_nothing(staff_client, contact, connection):
    _link_form(staff_client, contact)
    # A fresh form for the same open link, not confirmed as meant.
    assert _link_form(staff_client, contact).status_code == 200
    link = PaymentLink.objects.get()
    link.status = PaymentLink.Status.PAID
    link.save(update_fields=["status"])
    staff_client.post(reverse("payment_link_cancel", args=["acme", link.uuid]))  # paid: refused
    staff_client.post(reverse("payment_link_send", args=["acme", link.uuid]), {"sent_count": "0"})
    assert [e.action for e in entries(prefix="link.")] == [Action.LINK_CREATE]
