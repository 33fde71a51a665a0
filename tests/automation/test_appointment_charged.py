"""A booking charged by its workflow says so: the appointment's pages show "Charged" with a
link to the payment (not "Unpaid"), "Charge failed" for a decline, "Refunded" after a refund.

The workflow charges through the Stripe sandbox, started by the public booking page."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from automation.models import Appointment, Run
from automation.selectors import calendar_days, run_appointments
from billing.models import Payment
from billing.services.refunds import payment_refund
from tests.automation.conftest import charge_step, publish, saved_customer
from tests.automation.factories import CalendarFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def calendar(workspace):
    return CalendarFactory(workspace=workspace, name="Cleaning", slug="cleaning")


def _booking_workflow(workspace, connection, customer: str):
    """Pay per booking: each booking charges the client's saved card $49.99 (the visitor
    never chooses who pays)."""
    step = charge_step(connection, amount=4999, customer_id=customer, description="Booking fee")
    return publish(workspace, [step], trigger="appointment_booked", name="Charge bookings")


def _book(client, calendar, django_capture_on_commit_callbacks) -> Appointment:
    slot = next(slot for day in calendar_days(calendar) for slot in day.slots)
    data = {"slot": slot.isoformat(), "name": "Jane Cooper", "email": "jane@example.com"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("public_booking", args=[calendar.slug]), data)
    assert response.status_code == 302, response.content
    return Appointment.objects.get(calendar=calendar)


def _detail(client, appointment) -> str:
    url = reverse("appointment_detail", args=[appointment.workspace.slug, appointment.uuid])
    response = client.get(url)
    assert response.status_code == 200
    return response.text


def _payment_cell(page: str) -> str:
    return page.split("<dt>Payment</dt>")[1].split("</dd>")[0]


def test_a_booking_charged_by_its_workflow_shows_charged_with_the_payment(
    client, as_user, owner, workspace, connection, stripe_client, calendar,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    _booking_workflow(workspace, connection, saved_customer(stripe_client))
    appointment = _book(client, calendar, django_capture_on_commit_callbacks)

    run = Run.objects.get()
    assert run.status == Run.Status.SUCCEEDED, run.error_message
    payment = Payment.objects.get()
    assert payment.status == Payment.Status.SUCCEEDED and payment.amount == 4999
    assert list(payment.appointments.all()) == [appointment]
    appointment.refresh_from_db()
    assert appointment.payment_status == Appointment.PaymentStatus.CHARGED_IN_FULL

    staff = as_user(owner)
    cell = _payment_cell(_detail(staff, appointment))
    assert "Charged" in cell and "Unpaid" not in cell
    assert f'href="{payment.get_absolute_url()}"' in cell
    listing = staff.get(reverse("appointment_list", args=[workspace.slug])).text
    row = listing.split(str(appointment.uuid))[1].split("</tr>")[0]
    assert "Charged" in row and f'href="{payment.get_absolute_url()}"' in row
    # ...and the payment names the booking it paid for.
    assert "Cleaning" in staff.get(payment.get_absolute_url()).text


def test_a_declined_charge_shows_charge_failed_with_the_payment(
    client, as_user, owner, workspace, connection, stripe_client, calendar,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    # Attaches, then every charge is declined.
    _booking_workflow(workspace, connection, saved_customer(stripe_client, "4000000000000341"))
    appointment = _book(client, calendar, django_capture_on_commit_callbacks)

    assert Run.objects.get().status == Run.Status.FAILED
    payment = Payment.objects.get()
    assert payment.status == Payment.Status.FAILED
    appointment.refresh_from_db()
    assert appointment.payment_status == Appointment.PaymentStatus.UNPAID
    cell = _payment_cell(_detail(as_user(owner), appointment))
    assert "Charge failed" in cell and f'href="{payment.get_absolute_url()}"' in cell
    assert payment.failure_message and payment.failure_message in cell


def test_a_refunded_booking_shows_refunded(
    client, as_user, owner, workspace, connection, stripe_client, calendar,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    _booking_workflow(workspace, connection, saved_customer(stripe_client))
    appointment = _book(client, calendar, django_capture_on_commit_callbacks)
    payment = Payment.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        payment_refund(payment=payment, amount=1000, reason="", user=owner, attempt=uuid.uuid4())
    staff = as_user(owner)
    assert "Charged, partly refunded" in _payment_cell(_detail(staff, appointment))
    with django_capture_on_commit_callbacks(execute=True):
        payment_refund(payment=payment, amount=3999, reason="", user=owner, attempt=uuid.uuid4())
    cell = _payment_cell(_detail(staff, appointment))
    assert "Refunded" in cell and f'href="{payment.get_absolute_url()}"' in cell


def test_a_booking_without_payments_stays_unpaid(client, as_user, owner, calendar,
                                                 django_capture_on_commit_callbacks):  # fmt: skip
    appointment = _book(client, calendar, django_capture_on_commit_callbacks)
    cell = _payment_cell(_detail(as_user(owner), appointment))
    assert "Unpaid" in cell and "href" not in cell


def test_only_runs_caused_by_an_appointment_of_the_workspace_charge_for_it(
    workspace, other_workspace, calendar
):
    from tests.automation.factories import AppointmentFactory

    appointment = AppointmentFactory(calendar=calendar)
    other = AppointmentFactory(calendar=CalendarFactory(workspace=other_workspace))

    def run(cause, ws=workspace):
        return Run(workspace=ws, cause=cause)

    assert run_appointments(run(f"appointment_booked:{appointment.uuid}")) == [appointment]
    assert run_appointments(run(f"appointment_status:{appointment.uuid}:3")) == [appointment]
    assert run_appointments(run(f"appointment_booked:{other.uuid}")) == []  # not this workspace
    assert run_appointments(run(f"form_submission:{appointment.uuid}")) == []
    assert run_appointments(run("appointment_booked:not-a-uuid")) == []
    assert run_appointments(None) == []
