"""The Actionera test end to end against the sandbox: a customer submits the public form or
books, staff confirm, and the published workflow charges the contact's saved card."""

from __future__ import annotations

import pytest
from django.urls import reverse

from automation.models import Appointment, Run
from automation.selectors import calendar_days
from tests.automation.conftest import charge_step, publish
from tests.automation.factories import CalendarFactory, FormFactory


@pytest.fixture
def post_public(client, django_capture_on_commit_callbacks):
    """A customer's POST (no login); the runs it starts execute when it commits."""

    def post(url, data):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data, REMOTE_ADDR="203.0.113.7")

    return post


def test_a_form_submission_charges_the_lead_value_to_the_saved_card(
    workspace, connection, contact, stripe_client, post_public
):
    form = FormFactory(workspace=workspace, name="Lead form", slug="lead-form")
    other = FormFactory(workspace=workspace, name="Newsletter", slug="newsletter")
    workflow = publish(
        workspace,
        [
            charge_step(
                connection,
                amount="{{ contact.custom.lead_value }}",
                description="Lead fee: {{ trigger.form.name }}",
            )
        ],
        trigger="form_submitted",
        trigger_config={"forms": [str(form.uuid)]},
    )
    response = post_public(
        reverse("public_form", args=["lead-form"]),
        {"name": "Jane Cooper", "email": "JANE@example.com", "lead_value": "75"},
    )
    assert response.status_code == 302
    run = workflow.runs.get()
    assert run.status == "succeeded", run.error_message
    assert run.contact == contact
    step = run.steps.get()
    assert step.outputs["id"].startswith("pi_") and step.outputs["amount"] == 7500
    (intent,) = stripe_client.v1.payment_intents.list().data
    assert (intent.id, intent.amount, intent.description) == (
        step.outputs["id"],
        7500,
        "Lead fee: Lead form",
    )
    # Another form does not start this workflow.
    post_public(
        reverse("public_form", args=["newsletter"]),
        {"name": "Jane Cooper", "email": "jane@example.com"},
    )
    assert other.submissions.count() == 1 and workflow.runs.count() == 1


def test_a_confirmed_appointment_on_the_filtered_calendar_is_charged(
    workspace,
    connection,
    contact,
    stripe_client,
    staff,
    as_user,
    post_public,
    django_capture_on_commit_callbacks,
):
    cleaning = CalendarFactory(
        workspace=workspace, name="Cleaning", slug="cleaning", price_amount=12000
    )
    CalendarFactory(workspace=workspace, name="Whitening", slug="whitening")
    workflow = publish(
        workspace,
        [
            charge_step(
                connection,
                amount="{{ trigger.appointment.price.amount }}",
                amount_in_minor_units=True,
            )
        ],
        trigger="appointment_status_changed",
        trigger_config={"calendars": [str(cleaning.uuid)], "statuses": ["confirmed"]},
    )
    slot = next(day.slots[0] for day in calendar_days(cleaning) if day.slots)
    response = post_public(
        reverse("public_booking", args=["cleaning"]),
        {"slot": slot.isoformat(), "name": "Jane Cooper", "email": "jane@example.com"},
    )
    assert response.status_code == 302
    appointment = Appointment.objects.get()
    assert appointment.contact == contact and not workflow.runs.exists()  # booked only

    url = reverse("appointment_detail", args=["acme", appointment.uuid])
    with django_capture_on_commit_callbacks(execute=True):
        as_user(staff).post(url, {"status": "cancelled"})  # not a status the filter wants
    assert not workflow.runs.exists()
    with django_capture_on_commit_callbacks(execute=True):
        as_user(staff).post(url, {"status": "confirmed"})
    run = workflow.runs.get()
    assert run.status == "succeeded", run.error_message
    (intent,) = stripe_client.v1.payment_intents.list().data
    assert intent.amount == 12000 and intent.customer == contact.stripe_customer_id


def test_a_booking_on_another_calendar_starts_nothing(workspace, connection, contact, post_public):
    cleaning = CalendarFactory(workspace=workspace, slug="cleaning")
    whitening = CalendarFactory(workspace=workspace, slug="whitening")
    publish(
        workspace,
        [charge_step(connection)],
        trigger="appointment_booked",
        trigger_config={"calendars": [str(cleaning.uuid)], "statuses": []},
    )
    slot = next(day.slots[0] for day in calendar_days(whitening) if day.slots)
    post_public(
        reverse("public_booking", args=["whitening"]),
        {"slot": slot.isoformat(), "name": "Jane", "email": "jane@example.com"},
    )
    assert Appointment.objects.count() == 1 and not Run.objects.exists()
