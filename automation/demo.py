"""Demo forms, calendars, bookings and workflows (part of `demo_data`).

Everything is made through the services a member's clicks call, and only when it is not there
yet (found by slug, name or e-mail), so loading the demo again adds nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.utils import timezone

from automation.definition import steps_of
from automation.models import Appointment, Calendar, Form, Submission, Workflow
from automation.selectors import slot_is_offered
from automation.services import workflows as wf
from automation.services.calendars import appointment_book, calendar_save
from automation.services.forms import form_save, submission_create
from portal.models import Workspace

LEAD_FIELDS = [
    {"label": "Name", "key": "name", "kind": "name", "maps_to": "name", "required": True},
    {"label": "E-mail", "key": "email", "kind": "email", "maps_to": "email", "required": True},
    {"label": "Phone", "key": "phone", "kind": "phone", "maps_to": "phone", "required": False},
    {"label": "Lead value", "key": "lead_value", "kind": "number", "maps_to": "custom",
     "required": False},
]  # fmt: skip


def demo_automation(
    workspace: Workspace, connection, client_customer_id: str = "", publisher=None
) -> None:
    """Idempotent: what exists (by slug or name) is left as it is. `client_customer_id` is
    the Stripe customer of the business the agency bills per lead; `publisher` is the member
    the workflows' versions name as their publisher."""
    form = Form.objects.filter(slug="acme-lead-form").first() or form_save(
        workspace=workspace,
        name="Lead form",
        slug="acme-lead-form",
        intro="Tell us about your smile and we will call you back.",
        fields=LEAD_FIELDS,
    )
    for slug, name, price in CALENDARS:
        if not Calendar.objects.filter(slug=slug).exists():
            calendar_save(
                workspace=workspace,
                name=name,
                slug=slug,
                slot_minutes=30,
                time_zone="America/New_York",
                price_amount=price,
                price_currency="usd",
                availability=[(day, dt.time(9), dt.time(17)) for day in range(5)],
            )
    if connection is not None and client_customer_id:
        _pay_per_lead(workspace, form, connection, client_customer_id, publisher)
    if connection is not None:
        _charge_bookings(workspace, connection, publisher)
        _reminder(workspace, publisher)


CALENDARS = [
    # slug, name, price (USD cents)
    ("acme-cleaning", "Cleaning", 120_00),
    ("acme-consultation", "Consultation", 80_00),
]


# The lead fee the agency charges its client for each lead, and the workflow's limits.
LEAD_FEE = 25_00  # USD cents
MAX_PER_CHARGE = 50_00
MAX_PER_DAY = 500_00


def _pay_per_lead(
    workspace: Workspace, form: Form, connection, customer_id: str, publisher
) -> None:
    """Pay per lead as agencies run it: each lead arriving on the form charges the *client*
    (one Stripe customer, fixed in the step) a fixed fee. The lead who fills the form is not
    the payer: nothing they type chooses whose card is charged or how much.

    A "Pay per lead" left by an earlier demo (charging the lead's own contact) is rebuilt.
    """
    workflow = workspace.workflows.filter(name="Pay per lead").first()
    config = {
        "connection": str(connection.uuid),
        "customer_id": customer_id,
        "description": "Lead fee: {{ trigger.fields.name }} ({{ trigger.fields.email }})",
        "amount": LEAD_FEE,
        "amount_in_minor_units": False,
        "currency": "usd",
    }
    if workflow is not None:
        steps = steps_of(workflow.definition)
        if steps and (steps[0].get("config") or {}).get("customer_id") == customer_id:
            return  # already the client-pays demo
    else:
        workflow = wf.workflow_create(workspace=workspace, name="Pay per lead")
    wf.trigger_set(workflow=workflow, type="form_submitted", config={"forms": [str(form.uuid)]})
    for step in list(steps_of(workflow.definition)):
        wf.step_remove(workflow=workflow, key=step["key"])
    step = wf.step_add(workflow=workflow, type="stripe_one_time_charge")
    wf.step_update(
        workflow=workflow, key=step["key"], name="Charge the client the lead fee", config=config
    )
    wf.workflow_settings_save(
        workflow=workflow,
        max_amount_per_charge=MAX_PER_CHARGE,
        max_amount_per_day=MAX_PER_DAY,
        safety_currency="usd",
        allow_reentry=workflow.allow_reentry,
    )
    wf.workflow_publish(workflow=Workflow.objects.get(pk=workflow.pk), actor=publisher)


# "Charge cleaning bookings": a booking of a cleaning charges the booker's saved card the
# calendar's price. Version 1 charged every booker; version 2 (published after) first stops for
# a booker without a Stripe customer, so the two versions show on its Versions page.
BOOKING_WORKFLOW = "Charge cleaning bookings"
BOOKING_MAX_PER_CHARGE = 150_00
BOOKING_MAX_PER_DAY = 1_500_00


def _charge_bookings(workspace: Workspace, connection, publisher) -> None:
    if workspace.workflows.filter(name=BOOKING_WORKFLOW).exists():
        return
    cleaning = Calendar.objects.get(slug="acme-cleaning")
    workflow = wf.workflow_create(workspace=workspace, name=BOOKING_WORKFLOW)
    wf.trigger_set(
        workflow=workflow,
        type="appointment_booked",
        config={"calendars": [str(cleaning.uuid)], "statuses": []},
    )
    charge = wf.step_add(workflow=workflow, type="stripe_one_time_charge")
    wf.step_update(
        workflow=workflow,
        key=charge["key"],
        name="Charge the booking",
        config={
            "connection": str(connection.uuid),
            "customer_id": "{{ contact.stripe_customer_id }}",
            "description": "{{ trigger.calendar.name }} booked by {{ trigger.fields.name }}",
            "amount": "{{ trigger.appointment.price.amount }}",
            "amount_in_minor_units": True,
            "currency": "usd",
            "send_link_when_declined": True,
        },
    )
    wf.workflow_settings_save(
        workflow=workflow,
        max_amount_per_charge=BOOKING_MAX_PER_CHARGE,
        max_amount_per_day=BOOKING_MAX_PER_DAY,
        safety_currency="usd",
        allow_reentry=True,
    )
    wf.workflow_publish(workflow=Workflow.objects.get(pk=workflow.pk), actor=publisher)
    check = wf.step_add(workflow=workflow, type="filter", after="")
    wf.step_update(
        workflow=workflow,
        key=check["key"],
        name="Only bookers with a saved card",
        config={"left": "{{ contact.stripe_customer_id }}", "operator": "is_not_empty",
                "right": ""},
    )  # fmt: skip
    wf.workflow_publish(
        workflow=Workflow.objects.get(pk=workflow.pk), actor=publisher, changes_only=True
    )


# "Reminder before a booking": e-mails the booker a day before; until then its runs wait.
REMINDER_WORKFLOW = "Reminder a day before"


def _reminder(workspace: Workspace, publisher) -> None:
    if workspace.workflows.filter(name=REMINDER_WORKFLOW).exists():
        return
    workflow = wf.workflow_create(workspace=workspace, name=REMINDER_WORKFLOW)
    wf.trigger_set(
        workflow=workflow, type="appointment_booked", config={"calendars": [], "statuses": []}
    )
    wait = wf.step_add(workflow=workflow, type="wait")
    wf.step_update(
        workflow=workflow,
        key=wait["key"],
        name="Wait until a day before",
        config={
            "mode": "until",
            "length": 24,
            "unit": "hours",
            "direction": "before",
            "until": "{{ trigger.appointment.starts_at }}",
            "time_zone": "America/New_York",
        },
    )
    email = wf.step_add(workflow=workflow, type="send_email")
    wf.step_update(
        workflow=workflow,
        key=email["key"],
        name="E-mail the reminder",
        config={
            "to": "{{ contact.email }}",
            "subject": "See you tomorrow at Acme Dental",
            "body": "Hello {{ contact.name }},\n\nA reminder of your {{ trigger.calendar.name }}"
            " tomorrow. Reply to this e-mail to move it.\n\nAcme Dental",
        },
    )
    wf.workflow_publish(workflow=Workflow.objects.get(pk=workflow.pk), actor=publisher)


# The demo bookings: (calendar slug, contact e-mail, business days from today, hour in New York).
# On the cleaning calendar the booking workflow charges Jane's card, stops for Priya (no card)
# and fails on Declan's declined card (the last run, so the workflow list shows it); the
# consultations are paid by hand (Marcus, with a payment link) or not yet (Tom). Every booking
# a day or more ahead waits in the reminder workflow.
BOOKINGS = [
    ("acme-cleaning", "jane.cooper@example.com", 2, 10),
    ("acme-cleaning", "priya.patel@example.com", 3, 9),
    ("acme-cleaning", "declan.ross@example.com", 2, 11),
    ("acme-consultation", "marcus.lee@example.com", 3, 14),
    ("acme-consultation", "tom.becker@example.com", 4, 15),
]


def demo_bookings(workspace: Workspace) -> list[Appointment]:
    """Book the demo bookings not booked yet (through the booking page's service, so the
    workflows run); each contact has one booking per calendar. Returns all of them."""
    booked = []
    for slug, email, days, hour in BOOKINGS:
        calendar = Calendar.objects.get(workspace=workspace, slug=slug)
        appointment = calendar.appointments.filter(email=email).first()
        if appointment is None:
            contact = workspace.contacts.get(email=email)
            appointment = appointment_book(
                calendar=calendar,
                starts_at=_free_slot(calendar, days, hour),
                name=contact.name,
                email=email,
                phone=contact.phone,
            )
        booked.append(appointment)
    return booked


def _free_slot(calendar: Calendar, business_days: int, hour: int) -> dt.datetime:
    """The first free offered slot at or after `hour` on the business day `business_days`
    ahead (in the calendar's zone), moving on a day at a time."""
    day = timezone.now().astimezone(calendar.tz).date()
    left = business_days
    while left:
        day += dt.timedelta(days=1)
        left -= day.weekday() < 5
    for _ in range(10):
        for minutes in range(hour * 60, 17 * 60, calendar.slot_minutes):
            at = dt.datetime.combine(day, dt.time(minutes // 60, minutes % 60), calendar.tz)
            taken = calendar.appointments.filter(starts_at=at).exclude(status="cancelled")
            if slot_is_offered(calendar, at) and not taken.exists():
                return at
        day += dt.timedelta(days=1)
    raise ValueError(f"No free slot on {calendar.name} for the demo.")


# One lead on the lead form: "Pay per lead" charges the client its fee.
DEMO_LEAD = uuid.UUID("5d1e0a7c-0000-4000-8000-00000000d3a0")


def demo_lead(workspace: Workspace) -> Submission | None:
    """Submit the lead form once (its one-time token is fixed), when "Pay per lead" is live."""
    form = Form.objects.filter(workspace=workspace, slug="acme-lead-form").first()
    live = workspace.workflows.filter(name="Pay per lead", status=Workflow.Status.PUBLISHED)
    if form is None or not live.exists():
        return None
    return submission_create(
        form=form,
        data={"name": "Riley Morgan", "email": "riley.morgan@example.com", "phone": "",
              "lead_value": "200"},
        token=DEMO_LEAD,
    )  # fmt: skip
