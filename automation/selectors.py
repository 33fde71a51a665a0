"""Reads that are more than a one-line query: the free slots of a calendar."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from automation.models import Appointment, Calendar

BOOKING_DAYS = 14


@dataclass(frozen=True)
class Day:
    date: dt.date
    slots: list[dt.datetime]  # aware, in the calendar's zone


def _day_slots(calendar: Calendar, day: dt.date, windows) -> list[dt.datetime]:
    """The slot starts of one local day, whatever is booked."""
    tz, length = calendar.tz, dt.timedelta(minutes=calendar.slot_minutes)
    starts = set()
    for window in windows:
        if window.weekday != day.weekday():
            continue
        start = dt.datetime.combine(day, window.start_time, tzinfo=tz)
        end = dt.datetime.combine(day, window.end_time, tzinfo=tz)
        while start + length <= end:
            # Wall times that do not exist (the spring-forward hour) do not round-trip: skip them.
            if start.astimezone(dt.UTC).astimezone(tz).replace(fold=0) == start.replace(fold=0):
                starts.add(start)
            start += length
    return sorted(starts, key=lambda s: s.astimezone(dt.UTC))


def calendar_days(calendar: Calendar, *, now: dt.datetime | None = None) -> list[Day]:
    """Free slots for the next BOOKING_DAYS days (today included), in the calendar's zone.

    A slot is free when it starts after `now` and no appointment that is not cancelled
    holds it.
    """
    now = now or timezone.now()
    today = now.astimezone(calendar.tz).date()
    windows = list(calendar.availability.all())
    days = [
        Day(date=d, slots=_day_slots(calendar, d, windows))
        for d in (today + dt.timedelta(days=i) for i in range(BOOKING_DAYS))
    ]
    taken = set(
        Appointment.objects.filter(
            calendar=calendar,
            starts_at__gte=now,
            starts_at__lt=now + dt.timedelta(days=BOOKING_DAYS + 1),
        )
        .exclude(status=Appointment.Status.CANCELLED)
        .values_list("starts_at", flat=True)
    )
    return [
        Day(date=day.date, slots=[s for s in day.slots if s > now and s not in taken])
        for day in days
    ]


def slot_is_offered(calendar: Calendar, starts_at: dt.datetime, *, now=None) -> bool:
    """Whether `starts_at` is one of the calendar's slots in the booking window (booked or not)."""
    now = now or timezone.now()
    local = starts_at.astimezone(calendar.tz)
    today = now.astimezone(calendar.tz).date()
    if not (today <= local.date() < today + dt.timedelta(days=BOOKING_DAYS)) or starts_at <= now:
        return False
    return local in _day_slots(calendar, local.date(), calendar.availability.all())
