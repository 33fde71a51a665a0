"""Writes for calendars and appointments: booking (one per slot) and status changes."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from automation.models import Appointment, Availability, Calendar
from automation.selectors import slot_is_offered
from automation.services.forms import contact_for_public_input
from automation.services.runs import runs_start_for_trigger
from portal.models import Workspace

SLOT_TAKEN = "That time was just taken; pick another."


class SlotTaken(ValidationError):
    """The slot is held by another appointment (nothing was saved)."""

    def __init__(self, message: str = SLOT_TAKEN):
        super().__init__(message, code="slot_taken")


def calendar_save(
    *,
    workspace: Workspace,
    calendar: Calendar | None = None,
    name: str,
    slug: str,
    slot_minutes: int,
    time_zone: str,
    price_amount: int,
    price_currency: str,
    is_active: bool = True,
    availability: list[tuple[int, dt.time, dt.time]],
) -> Calendar:
    """Create a calendar or update one; its weekly windows are replaced by `availability`."""
    calendar = calendar or Calendar(workspace=workspace)
    calendar.name, calendar.slug, calendar.slot_minutes = name.strip(), slug, slot_minutes
    calendar.time_zone, calendar.is_active = time_zone, is_active
    calendar.price_amount, calendar.price_currency = price_amount, price_currency.lower()
    _check_windows(availability)
    calendar.full_clean(exclude=["workspace"], validate_constraints=False)
    message = "Another calendar uses this address; pick another."
    try:
        with transaction.atomic():
            if Calendar.objects.filter(slug=calendar.slug).exclude(pk=calendar.pk).exists():
                raise ValidationError({"slug": message})
            calendar.save()
            calendar.availability.all().delete()
            Availability.objects.bulk_create(
                Availability(calendar=calendar, weekday=day, start_time=start, end_time=end)
                for day, start, end in availability
            )
    except IntegrityError:  # the same slug saved at the same moment elsewhere
        raise ValidationError({"slug": message}) from None
    return calendar


def _check_windows(windows: list[tuple[int, dt.time, dt.time]]) -> None:
    names = dict(Availability.Weekday.choices)
    for day, start, end in windows:
        if end <= start:
            raise ValidationError(f"{names[day]} {start:%H:%M}: the end must be after the start.")
    ordered = sorted(windows)
    for (day, start, end), (next_day, next_start, _) in zip(ordered, ordered[1:], strict=False):
        if day == next_day and next_start < end:
            raise ValidationError(
                f"{names[day]}: the windows starting {start:%H:%M} and {next_start:%H:%M} overlap."
            )


def appointment_payload(
    appointment: Appointment, *, type: str, previous_status: str | None = None
) -> dict:
    """The `appointment_booked` / `appointment_status_changed` trigger payload (JSON-safe;
    times in UTC, ISO 8601)."""
    calendar = appointment.calendar
    return {
        "type": type,
        "appointment": {
            "id": str(appointment.uuid),
            "starts_at": appointment.starts_at.astimezone(dt.UTC).isoformat(),
            "ends_at": appointment.ends_at.astimezone(dt.UTC).isoformat(),
            "status": appointment.status,
            "previous_status": previous_status,
            "payment_status": appointment.payment_status,
            "price": {"amount": appointment.price_amount, "currency": appointment.price_currency},
        },
        "calendar": {"id": str(calendar.uuid), "name": calendar.name, "slug": calendar.slug},
        # What the person booking typed; the contact keeps what staff know.
        "fields": {
            "name": appointment.name,
            "email": appointment.email,
            "phone": appointment.phone,
        },  # fmt: skip
    }


def appointment_book(
    *, calendar: Calendar, starts_at: dt.datetime, name: str, email: str, phone: str = ""
) -> Appointment:
    """Book a free slot for someone (their contact upserted) and start the matching runs.

    Raises ValidationError for a time the calendar does not offer and SlotTaken when the
    slot is held, also by a booking committed a moment earlier; then nothing is saved.
    """
    starts_at = starts_at.astimezone(dt.UTC)
    if not slot_is_offered(calendar, starts_at):
        raise ValidationError({"slot": "This time is not offered; pick one of the listed times."})
    try:
        with transaction.atomic():
            contact = contact_for_public_input(
                workspace=calendar.workspace, email=email, name=name, phone=phone
            )
            # The partial unique constraint refuses a second live booking of the slot, also
            # when two requests get here at the same time.
            appointment = Appointment.objects.create(
                workspace=calendar.workspace,
                calendar=calendar,
                contact=contact,
                name=name,
                email=email,
                phone=phone,
                starts_at=starts_at,
                ends_at=starts_at + dt.timedelta(minutes=calendar.slot_minutes),
                price_amount=calendar.price_amount,
                price_currency=calendar.price_currency,
            )
            runs_start_for_trigger(
                workspace=calendar.workspace,
                trigger_type="appointment_booked",
                trigger=appointment_payload(appointment, type="appointment_booked"),
                cause=f"appointment_booked:{appointment.uuid}",
                contact=contact,
            )
    except IntegrityError:
        raise SlotTaken() from None
    return appointment


def appointment_status_set(*, appointment: Appointment, status: str) -> Appointment:
    """Change an appointment's status and start the matching runs (no-op if unchanged)."""
    if status not in Appointment.Status.values:
        raise ValidationError({"status": "Pick one of the listed statuses."})
    try:
        with transaction.atomic():
            locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
            previous = locked.status
            if previous == status:
                return locked
            locked.status = status
            locked.status_changes += 1
            locked.save(update_fields=["status", "status_changes", "updated_at"])
            runs_start_for_trigger(
                workspace=locked.workspace,
                trigger_type="appointment_status_changed",
                trigger=appointment_payload(
                    locked, type="appointment_status_changed", previous_status=previous
                ),
                cause=f"appointment_status:{locked.uuid}:{locked.status_changes}",
                contact=locked.contact,
            )
    except IntegrityError:  # un-cancelling a slot that someone else has booked since
        raise ValidationError(
            {"status": "Another appointment holds this time now; it cannot be restored."}
        ) from None
    return locked
