"""Factories for forms, calendars and appointments, and a published workflow for a trigger."""

from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from automation.models import (
    Appointment,
    Availability,
    Calendar,
    Form,
    FormField,
    Submission,
    Workflow,
    WorkflowVersion,
)
from tests.factories import WorkspaceFactory


class FormFactory(DjangoModelFactory):
    """A form with name, e-mail (required, the contact's) and a `lead_value` number."""

    class Meta:
        model = Form
        skip_postgeneration_save = True

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Lead form {n}")
    slug = factory.Sequence(lambda n: f"lead-form-{n}")

    @factory.post_generation
    def with_fields(obj, create, extracted, **kwargs):
        if create and extracted is not False:
            FormFieldFactory(form=obj, label="Name", key="name", kind="name", maps_to="name",
                             required=True, position=0)  # fmt: skip
            FormFieldFactory(form=obj, label="E-mail", key="email", kind="email",
                             maps_to="email", required=True, position=1)  # fmt: skip
            FormFieldFactory(form=obj, label="Lead value", key="lead_value", kind="number",
                             maps_to="custom", position=2)  # fmt: skip


class FormFieldFactory(DjangoModelFactory):
    class Meta:
        model = FormField

    form = factory.SubFactory(FormFactory, with_fields=False)
    label = factory.Sequence(lambda n: f"Field {n}")
    key = factory.Sequence(lambda n: f"field_{n}")
    kind = FormField.Kind.TEXT
    maps_to = FormField.MapsTo.CUSTOM


class SubmissionFactory(DjangoModelFactory):
    class Meta:
        model = Submission

    form = factory.SubFactory(FormFactory)
    workspace = factory.LazyAttribute(lambda o: o.form.workspace)
    contact = None
    data = factory.LazyFunction(lambda: {"name": "Jane", "email": "jane@example.com"})
    submitted_at = factory.LazyFunction(timezone.now)


class CalendarFactory(DjangoModelFactory):
    """A calendar open Monday to Friday, 09:00 to 12:00 (30-minute slots), in New York."""

    class Meta:
        model = Calendar
        skip_postgeneration_save = True

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Consultations {n}")
    slug = factory.Sequence(lambda n: f"consultations-{n}")
    slot_minutes = 30
    time_zone = "America/New_York"
    price_amount = 4999
    price_currency = "usd"

    @factory.post_generation
    def weekdays(obj, create, extracted, **kwargs):
        if create and extracted is not False:
            for day in range(5):
                AvailabilityFactory(calendar=obj, weekday=day)


class AvailabilityFactory(DjangoModelFactory):
    class Meta:
        model = Availability

    calendar = factory.SubFactory(CalendarFactory, weekdays=False)
    weekday = 0
    start_time = dt.time(9)
    end_time = dt.time(12)


class AppointmentFactory(DjangoModelFactory):
    class Meta:
        model = Appointment

    calendar = factory.SubFactory(CalendarFactory)
    workspace = factory.LazyAttribute(lambda o: o.calendar.workspace)
    name = "Jane Cooper"
    email = factory.Sequence(lambda n: f"booker{n}@example.com")
    starts_at = factory.Sequence(
        lambda n: (
            timezone.now().replace(minute=0, second=0, microsecond=0)
            + dt.timedelta(days=1, hours=n)
        )
    )
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + dt.timedelta(minutes=30))
    price_amount = factory.LazyAttribute(lambda o: o.calendar.price_amount)
    price_currency = factory.LazyAttribute(lambda o: o.calendar.price_currency)


def published_workflow(workspace, trigger_type: str, config: dict | None = None) -> Workflow:
    """A published workflow (no steps) whose trigger is `trigger_type` with `config`."""
    definition = {"trigger": {"type": trigger_type, "config": config or {}}, "steps": []}
    workflow = Workflow.objects.create(
        workspace=workspace, name="w", status="published", definition=definition
    )
    version = WorkflowVersion.objects.create(
        workflow=workflow, number=1, definition=definition, settings={}, trigger_type=trigger_type
    )
    workflow.published_version = version
    workflow.save()
    return workflow
