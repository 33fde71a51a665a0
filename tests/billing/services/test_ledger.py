"""The ledger: one row and one PaymentIntent per attempt; success effects exactly once."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection as db

from automation.models import Appointment
from billing.models import Payment, PaymentLink
from billing.receivers import on_stripe_event
from billing.services.charges import ChargeError, charge_card_on_file, payment_refresh
from billing.services.links import payment_link_checkout, payment_link_create
from billing.services.refunds import payment_refund
from tests.automation.factories import AppointmentFactory, CalendarFactory
from tests.conftest import saved_customer
from tests.factories import ContactFactory


def _card(stripe_client, contact) -> str:
    return (
        stripe_client.v1.payment_methods.list(
            params={"customer": contact.stripe_customer_id, "type": "card"}
        )
        .data[0]
        .id
    )


def test_the_same_attempt_charges_once(workspace, connection, contact, stripe_client, owner):
    attempt = uuid.uuid4()
    kwargs = dict(
        workspace=workspace,
        contact=contact,
        payment_method_id=_card(stripe_client, contact),
        amount=4999,
        currency="usd",
        description="Cleaning",
        user=owner,
        attempt=attempt,
    )
    first = charge_card_on_file(**kwargs)
    again = charge_card_on_file(**kwargs)
    assert first.pk == again.pk and first.status == "succeeded"
    assert len(stripe_client.v1.payment_intents.list().data) == 1
    assert Payment.objects.count() == 1
    assert first.idempotency_key == f"payment:{attempt}:intent"


def test_a_decline_is_recorded_with_stripes_reason(workspace, connection, stripe_client, owner):
    contact = ContactFactory(
        workspace=workspace, stripe_customer_id=saved_customer(stripe_client, "4000000000000341")
    )
    with pytest.raises(ChargeError) as declined:
        charge_card_on_file(
            workspace=workspace,
            contact=contact,
            payment_method_id=_card(stripe_client, contact),
            amount=1000,
            currency="usd",
            description="x",
            user=owner,
            attempt=uuid.uuid4(),
        )
    payment = Payment.objects.get()
    assert payment.status == "failed" and "declined" in payment.failure_message
    assert payment.stripe_payment_intent_id.startswith("pi_")
    assert "declined" in str(declined.value)


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_submissions_of_one_charge_make_one_payment_intent(
    sandbox, workspace, owner, settings
):
    from integrations.services import connection_create_from_key

    secret, publishable, _ = sandbox.new_account()
    connection_create_from_key(workspace=workspace, secret_key=secret, publishable_key=publishable)
    client = sandbox.client(secret)
    contact = ContactFactory(workspace=workspace, stripe_customer_id=saved_customer(client))
    method = (
        client.v1.payment_methods.list(
            params={"customer": contact.stripe_customer_id, "type": "card"}
        )
        .data[0]
        .id
    )
    attempt, results = uuid.uuid4(), []

    def submit():
        try:
            results.append(
                charge_card_on_file(
                    workspace=workspace,
                    contact=contact,
                    payment_method_id=method,
                    amount=2500,
                    currency="usd",
                    description="Twice?",
                    user=owner,
                    attempt=attempt,
                ).status
            )
        except Exception as error:  # noqa: BLE001 - reported below
            results.append(repr(error))
        finally:
            db.close()

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Payment.objects.count() == 1
    intents = client.v1.payment_intents.list().data
    assert [i.status for i in intents] == ["succeeded"], results


def test_partial_refund_then_the_rest_then_a_third_is_refused(
    workspace, connection, contact, stripe_client, owner
):
    payment = charge_card_on_file(
        workspace=workspace,
        contact=contact,
        payment_method_id=_card(stripe_client, contact),
        amount=5000,
        currency="usd",
        description="x",
        user=owner,
        attempt=uuid.uuid4(),
    )
    payment_refund(
        payment=payment,
        amount=2000,
        reason="requested_by_customer",
        user=owner,
        attempt=uuid.uuid4(),
    )
    payment.refresh_from_db()
    assert payment.refundable == 3000
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match=r"At most \$30\.00"):
        payment_refund(payment=payment, amount=3001, reason="", user=owner, attempt=uuid.uuid4())
    payment_refund(payment=payment, amount=3000, reason="", user=owner, attempt=uuid.uuid4())
    with pytest.raises(ValidationError, match="refunded in full already"):
        payment_refund(payment=payment, amount=1, reason="", user=owner, attempt=uuid.uuid4())
    payment.refresh_from_db()
    assert payment.amount_refunded == 5000 and payment.refunds.count() == 2
    assert [r.amount for r in stripe_client.v1.refunds.list().data] == [3000, 2000]


def test_a_repeated_refund_submission_refunds_once(
    workspace, connection, contact, stripe_client, owner
):
    payment = charge_card_on_file(
        workspace=workspace,
        contact=contact,
        payment_method_id=_card(stripe_client, contact),
        amount=5000,
        currency="usd",
        description="x",
        user=owner,
        attempt=uuid.uuid4(),
    )
    attempt = uuid.uuid4()
    for _ in range(3):
        payment_refund(payment=payment, amount=1000, reason="", user=owner, attempt=attempt)
    payment.refresh_from_db()
    assert payment.amount_refunded == 1000 and len(stripe_client.v1.refunds.list().data) == 1


class _Event:
    """What the subscriber reads of a stored StripeEvent."""

    def __init__(self, connection, type_, obj):
        self.type, self.payload = type_, {"data": {"object": obj}}
        self.endpoint = type("E", (), {"connection": connection})


@pytest.mark.django_db(transaction=True)
def test_the_return_page_racing_the_webhook_confirms_once(sandbox, workspace, mailoutbox, owner):
    from integrations.services import connection_create_from_key

    secret, publishable, _ = sandbox.new_account()
    connection = connection_create_from_key(
        workspace=workspace, secret_key=secret, publishable_key=publishable
    )
    client = sandbox.client(secret)
    contact = ContactFactory(workspace=workspace, email="jane@example.com")
    calendar = CalendarFactory(workspace=workspace)
    booking = AppointmentFactory(calendar=calendar, contact=contact, price_amount=3000)
    link = payment_link_create(
        workspace=workspace,
        contact=contact,
        amount=3000,
        currency="usd",
        description="Cleaning",
        appointments=[booking],
    )
    payment, _secret = payment_link_checkout(link=link)
    # The customer's browser confirms the intent (here through the API, as Stripe.js would).
    intent = client.v1.payment_intents.confirm(
        payment.stripe_payment_intent_id, params={"payment_method": "pm_card_visa"}
    )
    assert intent.status == "succeeded"
    barrier = threading.Barrier(2)

    def return_page():
        barrier.wait()
        payment_refresh(payment=Payment.objects.get(pk=payment.pk))
        db.close()

    def webhook():
        barrier.wait()
        on_stripe_event(_Event(connection, "payment_intent.succeeded", intent.to_dict()))
        db.close()

    threads = [threading.Thread(target=return_page), threading.Thread(target=webhook)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    payment.refresh_from_db()
    link.refresh_from_db()
    booking.refresh_from_db()
    assert payment.status == "succeeded" and link.status == PaymentLink.Status.PAID
    assert booking.payment_status == Appointment.PaymentStatus.CHARGED_IN_FULL
    assert len(client.v1.payment_intents.list().data) == 1
    subjects = sorted(m.subject for m in mailoutbox)
    assert len(subjects) == 2, subjects  # one receipt, one note to the owner
    assert payment.events.filter(kind__in=["return page", "webhook"]).count() == 1


def test_the_same_attempt_with_another_amount_is_refused(
    workspace, connection, contact, stripe_client, owner
):
    from django.core.exceptions import ValidationError

    attempt = uuid.uuid4()
    method = _card(stripe_client, contact)
    charge_card_on_file(
        workspace=workspace,
        contact=contact,
        payment_method_id=method,
        amount=1000,
        currency="usd",
        description="x",
        user=owner,
        attempt=attempt,
    )
    with pytest.raises(ValidationError, match="another amount"):
        charge_card_on_file(
            workspace=workspace,
            contact=contact,
            payment_method_id=method,
            amount=9000,
            currency="usd",
            description="x",
            user=owner,
            attempt=attempt,
        )
    assert [i.amount for i in stripe_client.v1.payment_intents.list().data] == [1000]
