"""The Actionera test end to end against the sandbox: a lead submits the public form or books,
staff confirm, and the published workflow charges a saved card, never as a stranger chose."""

from __future__ import annotations

import pytest
from django.urls import reverse

from automation.models import Appointment, Run
from automation.selectors import calendar_days
from billing.models import Payment
from tests.automation.conftest import charge_step, publish
from tests.automation.factories import CalendarFactory, FormFactory


@pytest.fixture
def post_public(client, django_capture_on_commit_callbacks):
    """A customer's POST (no login); the runs it starts execute when it commits."""

    def post(url, data):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data, REMOTE_ADDR="203.0.113.7")

    return post


def test_each_lead_charges_the_client_a_fixed_fee(
    workspace, connection, contact, stripe_client, post_public
):
    """Pay per lead: the agency's client (one Stripe customer, pasted into the step) pays a
    fixed fee for each lead; the lead who fills the form is not the payer."""
    form = FormFactory(workspace=workspace, name="Lead form", slug="lead-form")
    other = FormFactory(workspace=workspace, name="Newsletter", slug="newsletter")
    workflow = publish(
        workspace,
        [
            charge_step(
                connection,
                customer_id=contact.stripe_customer_id,
                amount=2500,
                description="Lead fee: {{ trigger.form.name }}",
            )
        ],
        trigger="form_submitted",
        trigger_config={"forms": [str(form.uuid)]},
    )
    response = post_public(
        reverse("public_form", args=["lead-form"]),
        {"name": "Lee Lead", "email": "lee@example.com", "lead_value": "75"},
    )
    assert response.status_code == 302
    run = workflow.runs.get()
    assert run.status == "succeeded", run.error_message
    assert run.contact.email == "lee@example.com"  # the lead, created by the submission
    step = run.steps.get()
    assert step.outputs["id"].startswith("pi_") and step.outputs["amount"] == 2500
    (intent,) = stripe_client.v1.payment_intents.list().data
    assert (intent.id, intent.amount, intent.description, intent.customer) == (
        step.outputs["id"],
        2500,
        "Lead fee: Lead form",
        contact.stripe_customer_id,
    )
    # The ledger names the client as the payer, not the lead.
    assert Payment.objects.get().contact == contact
    # Another form does not start this workflow.
    post_public(
        reverse("public_form", args=["newsletter"]),
        {"name": "Jane Cooper", "email": "jane@example.com"},
    )
    assert other.submissions.count() == 1 and workflow.runs.count() == 1


def _lead_value_workflow(workspace, connection, form, **settings):
    """The pattern a stranger abused: the contact found by the e-mail typed pays the amount
    typed."""
    return publish(
        workspace,
        [charge_step(connection, amount="{{ trigger.fields.lead_value }}")],
        trigger="form_submitted",
        trigger_config={"forms": [str(form.uuid)]},
        **settings,
    )


STRANGER = {"name": "Mallory", "email": "jane@example.com", "lead_value": "999999.99"}


def test_a_stranger_cannot_charge_a_customer_through_an_uncapped_workflow(
    workspace, connection, contact, stripe_client, post_public
):
    """A version published before the rule (no limits) refuses to charge what a visitor
    chose, and the visitor's name does not replace the customer's."""
    form = FormFactory(workspace=workspace, name="Lead form", slug="lead-form")
    workflow = _lead_value_workflow(workspace, connection, form)
    post_public(reverse("public_form", args=["lead-form"]), STRANGER)
    run = workflow.runs.get()
    assert run.status == "failed" and run.error_code == "VALIDATION_ERROR"
    assert "maximum per charge and a maximum per day" in run.error_message
    assert stripe_client.v1.payment_intents.list().data == []
    contact.refresh_from_db()
    assert contact.name == "Jane Cooper"


def test_with_both_maximums_a_strangers_amount_is_capped(
    workspace, connection, contact, stripe_client, post_public
):
    form = FormFactory(workspace=workspace, name="Lead form", slug="lead-form")
    workflow = _lead_value_workflow(
        workspace, connection, form, max_amount_per_charge=10000, max_amount_per_day=30000
    )
    post_public(reverse("public_form", args=["lead-form"]), STRANGER)
    run = workflow.runs.get()
    assert run.status == "failed" and "above this workflow's maximum per charge" in (
        run.error_message
    )
    assert stripe_client.v1.payment_intents.list().data == []


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
        # The contact (and so the customer) came from a public booking: capped.
        max_amount_per_charge=20000,
        max_amount_per_day=100000,
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
