"""Django forms for calendars (staff), booking (public) and appointment status (staff)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django import forms

from automation.models import Appointment, Availability, Calendar
from portal.money import CURRENCIES, check_chargeable, format_amount, parse_amount


class CalendarForm(forms.Form):
    name = forms.CharField(max_length=120)
    slug = forms.SlugField(
        max_length=60,
        label="Address",
        help_text="The booking page is /book/this-address/: lowercase letters, digits and hyphens.",
    )
    slot_minutes = forms.IntegerField(
        min_value=5, max_value=24 * 60, initial=30, label="Slot length (minutes)"
    )
    time_zone = forms.CharField(
        max_length=64,
        initial="UTC",
        help_text="An IANA name such as America/New_York; the booking page shows times in it.",
    )
    price = forms.CharField(
        max_length=20, initial="0", help_text="Per booking, e.g. 49.99 (0: free)."
    )
    currency = forms.ChoiceField(choices=[(c.lower(), c) for c in CURRENCIES], initial="usd")
    is_active = forms.BooleanField(
        required=False, initial=True, label="Active (the booking page takes bookings)"
    )

    def clean_slug(self) -> str:
        return self.cleaned_data["slug"].lower()

    def clean_time_zone(self) -> str:
        name = self.cleaned_data["time_zone"].strip()
        try:
            zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise forms.ValidationError(
                f"“{name}” is not a time zone name such as America/New_York."
            ) from None
        return name

    def clean(self):
        data = super().clean()
        if "price" in data and "currency" in data:
            text = data["price"].strip()
            try:
                amount = parse_amount(text, data["currency"]) if text else 0
                if amount:  # a price is charged later: Stripe's bounds apply now
                    check_chargeable(amount, data["currency"])
                data["price_amount"] = amount
            except ValueError as error:
                self.add_error("price", str(error))
        return data

    def to_fields(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "slug": data["slug"],
            "slot_minutes": data["slot_minutes"],
            "time_zone": data["time_zone"],
            "price_amount": data["price_amount"],
            "price_currency": data["currency"],
            "is_active": data["is_active"],
        }

    @classmethod
    def initial_for(cls, calendar: Calendar) -> dict:
        return {
            "name": calendar.name,
            "slug": calendar.slug,
            "slot_minutes": calendar.slot_minutes,
            "time_zone": calendar.time_zone,
            "price": format_amount(calendar.price_amount, calendar.price_currency, with_code=False),
            "currency": calendar.price_currency,
            "is_active": calendar.is_active,
        }


TIME_INPUT = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class AvailabilityRowForm(forms.Form):
    # initial=0: a blank row (Monday, no times) counts as unchanged and is ignored.
    weekday = forms.TypedChoiceField(choices=Availability.Weekday.choices, coerce=int, initial=0)
    start_time = forms.TimeField(widget=TIME_INPUT, label="From")
    end_time = forms.TimeField(widget=TIME_INPUT, label="To")

    def clean(self):
        data = super().clean()
        start, end = data.get("start_time"), data.get("end_time")
        if start and end and end <= start:
            self.add_error("end_time", "The end must be after the start.")
        return data


AvailabilityFormSet = forms.formset_factory(
    AvailabilityRowForm, extra=3, can_delete=True, max_num=70
)


def availability_rows(formset) -> list[tuple[int, dt.time, dt.time]]:
    return [
        (row.cleaned_data["weekday"], row.cleaned_data["start_time"], row.cleaned_data["end_time"])
        for row in formset.forms
        if row.has_changed() and not formset._should_delete_form(row)
    ]


class BookingForm(forms.Form):
    slot = forms.CharField(widget=forms.HiddenInput, error_messages={"required": "Pick a time."})
    name = forms.CharField(max_length=200)
    email = forms.EmailField(label="E-mail", max_length=254)
    phone = forms.CharField(
        max_length=40, required=False, widget=forms.TextInput(attrs={"type": "tel"})
    )

    def clean_slot(self) -> dt.datetime:
        try:
            value = dt.datetime.fromisoformat(self.cleaned_data["slot"])
        except ValueError:
            raise forms.ValidationError("Pick a time.") from None
        if value.tzinfo is None:
            raise forms.ValidationError("Pick a time.")
        try:  # in UTC: an offset at the ends of the calendar (year 1 or 9999) cannot be booked
            return value.astimezone(dt.UTC)
        except OverflowError:
            raise forms.ValidationError("Pick a time.") from None


class AppointmentStatusForm(forms.Form):
    status = forms.ChoiceField(choices=Appointment.Status.choices)


class AppointmentSearchForm(forms.Form):
    calendar = forms.ChoiceField(required=False)
    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), *Appointment.Status.choices]
    )

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["calendar"].choices = [("", "Any calendar")] + [
            (str(c.uuid), c.name) for c in workspace.calendars.all()
        ]
