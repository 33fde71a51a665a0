"""Appointment booked / status changed: filter by calendars and statuses (none = any)."""

from __future__ import annotations

import datetime as dt
import uuid

from django import forms
from django.utils import timezone

from automation.models import Appointment
from automation.triggers.base import Trigger, TriggerConfigForm
from automation.triggers.forms import _uuids


class AppointmentFilterForm(TriggerConfigForm):
    calendars = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None chosen: any calendar.",
    )
    statuses = forms.MultipleChoiceField(
        choices=Appointment.Status.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="The appointment's status after the event. None chosen: any status.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.workspace is not None:
            self.fields["calendars"].choices = [
                (str(c.uuid), c.name) for c in self.workspace.calendars.all()
            ]

    def to_config(self) -> dict:
        return {
            "calendars": list(self.cleaned_data.get("calendars") or []),
            "statuses": list(self.cleaned_data.get("statuses") or []),
        }


class AppointmentTrigger(Trigger):
    config_form = AppointmentFilterForm
    outputs = [
        "type",
        "appointment.id",
        "appointment.starts_at",
        "appointment.ends_at",
        "appointment.status",
        "appointment.previous_status",
        "appointment.payment_status",
        "appointment.price.amount",
        "appointment.price.currency",
        "calendar.id",
        "calendar.name",
        "calendar.slug",
        "fields.name",
        "fields.email",
        "fields.phone",
    ]
    # The booking page is public: who booked, and the contact it found, come from a visitor.
    visitor_input = True
    sample_status = "booked"
    sample_previous: str | None = None

    @classmethod
    def matches(cls, config: dict, trigger: dict) -> bool:
        calendars = config.get("calendars") or []
        statuses = config.get("statuses") or []
        calendar_id = (trigger.get("calendar") or {}).get("id")
        status = (trigger.get("appointment") or {}).get("status")
        return (not calendars or calendar_id in calendars) and (not statuses or status in statuses)

    @classmethod
    def sample(cls, workspace) -> dict:
        calendar = workspace.calendars.first() if workspace is not None else None
        if calendar is None:
            info = {"id": str(uuid.uuid4()), "name": "Consultations", "slug": "consultations"}
            price, minutes, tz = {"amount": 4999, "currency": "usd"}, 30, dt.UTC
        else:
            info = {"id": str(calendar.uuid), "name": calendar.name, "slug": calendar.slug}
            price = {"amount": calendar.price_amount, "currency": calendar.price_currency}
            minutes, tz = calendar.slot_minutes, calendar.tz
        tomorrow = timezone.now().astimezone(tz) + dt.timedelta(days=1)
        starts = tomorrow.replace(hour=10, minute=0, second=0, microsecond=0)
        return {
            "type": cls.key,
            "appointment": {
                "id": str(uuid.uuid4()),
                "starts_at": starts.isoformat(),
                "ends_at": (starts + dt.timedelta(minutes=minutes)).isoformat(),
                "status": cls.sample_status,
                "previous_status": cls.sample_previous,
                "payment_status": "unpaid",
                "price": price,
            },
            "calendar": info,
            "fields": {"name": "Jane Doe", "email": "jane@example.com", "phone": ""},
        }

    @classmethod
    def describe(cls, config: dict, workspace) -> str:
        calendars = config.get("calendars") or []
        statuses = config.get("statuses") or []
        if calendars:
            found = workspace.calendars.filter(uuid__in=_uuids(calendars))
            names = {str(k): v for k, v in found.values_list("uuid", "name")}
            where = ", ".join(names.get(c, "(deleted calendar)") for c in calendars)
        else:
            where = "any calendar"
        text = f"{cls.label}: {where}"
        if statuses:
            labels = dict(Appointment.Status.choices)
            text += "; status " + ", ".join(labels.get(s, s) for s in statuses)
        return text


class Booked(AppointmentTrigger):
    key = "appointment_booked"
    label = "Appointment booked"


class StatusChanged(AppointmentTrigger):
    key = "appointment_status_changed"
    label = "Appointment status changed"
    sample_status = "confirmed"
    sample_previous = "booked"
