"""Send payment link: the booking's customer gets a link; paying it fires "payment link paid"."""

from __future__ import annotations

from automation.models import Appointment, Run
from billing.models import PaymentLink
from billing.services.charges import payment_refresh
from billing.services.links import payment_link_checkout
from tests.automation.conftest import publish
from tests.automation.factories import AppointmentFactory, CalendarFactory
from tests.factories import ContactFactory


def test_a_booking_gets_a_link_once_and_paying_it_charges_the_booking_and_fires_the_trigger(
    workspace, connection, trigger_run, mailoutbox, sandbox, django_capture_on_commit_callbacks
):
    contact = ContactFactory(workspace=workspace, email="jane@example.com")
    booking = AppointmentFactory(calendar=CalendarFactory(workspace=workspace), contact=contact)
    step = {
        "key": "link",
        "type": "send_payment_link",
        "name": "Ask to pay",
        "config": {
            "amount": "{{ trigger.appointment.price.amount }}",
            "amount_in_minor_units": True,
            "currency": "usd",
            "description": "Your cleaning",
            "include_trigger_booking": True,
        },
    }
    publish(workspace, [step])
    paid_flow = publish(workspace, [], trigger="payment_link_paid", name="Thank you")
    trigger = {
        "type": "appointment_booked",
        "appointment": {"id": str(booking.uuid), "price": {"amount": 4999, "currency": "usd"}},
    }
    run = trigger_run(workspace, contact=contact, trigger=trigger)
    assert run.status == "succeeded", run.error_message
    link = PaymentLink.objects.get()
    assert (link.amount, list(link.appointments.all())) == (4999, [booking])
    assert run.steps.get().outputs["url"].endswith(link.get_absolute_url())
    (message,) = mailoutbox
    assert link.get_absolute_url() in message.body

    payment, _ = payment_link_checkout(link=link)
    sandbox.client(connection.secret_key).v1.payment_intents.confirm(
        payment.stripe_payment_intent_id, params={"payment_method": "pm_card_visa"}
    )
    with django_capture_on_commit_callbacks(execute=True):
        payment_refresh(payment=payment)
    booking.refresh_from_db()
    link.refresh_from_db()
    assert link.status == "paid"
    assert booking.payment_status == Appointment.PaymentStatus.CHARGED_IN_FULL
    assert Run.objects.filter(workflow=paid_flow, trigger_type="payment_link_paid").count() == 1
