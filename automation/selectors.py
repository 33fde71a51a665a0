"""Reads that are more than a one-line query: the free slots of a calendar, the appointment a
run was started by, what became of an appointment's payments, the events a workflow's runs
were started by."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.utils import timezone

from automation.models import Appointment, Calendar, Workflow

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


# The causes of the appointment triggers (automation/services/calendars.py).
APPOINTMENT_CAUSES = ("appointment_booked:", "appointment_status:")


def run_appointments(run) -> list[Appointment]:
    """The appointment whose booking or status change started `run` (none for other runs):
    a payment the run makes is for it."""
    cause = getattr(run, "cause", "") or ""
    if not cause.startswith(APPOINTMENT_CAUSES):
        return []
    try:
        appointment_uuid = uuid.UUID(cause.split(":")[1])
    except (IndexError, ValueError):
        return []
    return list(Appointment.objects.filter(workspace_id=run.workspace_id, uuid=appointment_uuid))


@dataclass(frozen=True)
class PaymentState:
    label: str
    payment: Any  # the billing payment the label is about, or None
    tone: str  # "succeeded", "failed" or "": the badge's colour


def appointment_payment(appointment: Appointment) -> PaymentState:
    """What became of the payments made for an appointment (a workflow's charge, a card on
    file, a payment link): the latest that succeeded, else the latest attempt. Reads
    `appointment.payments` (billing's ledger rows; prefetch it for a list)."""
    payments = list(appointment.payments.all())  # newest first
    succeeded = [p for p in payments if p.status == p.Status.SUCCEEDED]
    if succeeded:
        payment = succeeded[0]
        charged = appointment.get_payment_status_display()  # "Charged in Full", as billing set
        if appointment.payment_status == appointment.PaymentStatus.UNPAID:
            charged = "Charged"
        refunded = {"refunded": "Refunded", "partially refunded": "Charged, partly refunded"}
        label = refunded.get(payment.refund_state, charged)
        return PaymentState(label, payment, "" if label == "Refunded" else "succeeded")
    if payments:
        payment = payments[0]
        if payment.status in (payment.Status.FAILED, payment.Status.CANCELED):
            return PaymentState("Charge failed", payment, "failed")
        return PaymentState(payment.get_status_display(), payment, "")
    return PaymentState(appointment.get_payment_status_display(), None, "")


def run_event_types(workflow: Workflow) -> set[str]:
    """The event types the workflow's runs were started by (a run whose data names no type
    goes by its trigger's key), for the history's filter. Reading them means reading every
    run's trigger data, so they are kept in the cache under the newest run: runs are only
    added, and a run's trigger data never changes."""
    newest = workflow.runs.order_by("-pk").values_list("uuid", flat=True).first()
    if newest is None:
        return set()
    key = f"automation:run-event-types:{workflow.uuid}:{newest}"
    if (types := cache.get(key)) is None:
        pairs = workflow.runs.order_by().values_list("trigger_type", "trigger__type").distinct()
        types = {str(event or trigger) for trigger, event in pairs}
        cache.set(key, types, 3600)
    return types
