"""Public pages, no login: submit a form (/f/<slug>/), book an appointment (/book/<slug>/)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from automation.calendar_forms import BookingForm
from automation.form_forms import PublicForm
from automation.models import Appointment, Calendar, Form
from automation.selectors import calendar_days
from automation.services.calendars import SlotTaken, appointment_book
from automation.services.forms import submission_create
from portal.money import locale_activate
from portal.ratelimit import RateLimit, client_address

# 5 bookings (of a calendar) per address in 10 minutes.
SUBMISSION_RATE = RateLimit("public-rate", limit=5, window=10 * 60)


def _rate_key(obj, request: HttpRequest) -> str:
    return f"{obj.uuid}:{client_address(request)}"


def _form_rate(form: Form) -> RateLimit:
    """The form's own limit: `submission_limit` per address in `submission_window_minutes`."""
    return RateLimit(
        "public-rate", limit=form.submission_limit, window=form.submission_window_minutes * 60
    )


def _minutes_text(minutes: int) -> str:
    """ "10 minutes", "a minute", "an hour", "3 hours", "90 minutes"."""
    if minutes % 60 == 0:
        hours = minutes // 60
        return "an hour" if hours == 1 else f"{hours} hours"
    return "a minute" if minutes == 1 else f"{minutes} minutes"


@require_http_methods(["GET", "POST"])
def public_form(request: HttpRequest, slug: str):
    form = get_object_or_404(Form.objects.select_related("workspace"), slug=slug, is_active=True)
    context = {"object": form, "sent": request.GET.get("sent") == "1"}
    if request.method == "POST":
        public = PublicForm(request.POST, form=form)
        # Refused input does not count: a person fixing typos is not a spammer.
        if (public.is_spam or public.is_valid()) and _form_rate(form).hit(_rate_key(form, request)):
            context["wait"] = _minutes_text(form.submission_window_minutes)
            return render(request, "automation/public/rate_limited.html", context, status=429)
        if public.is_spam:  # the honeypot is filled: look accepted, save nothing
            return redirect(f"{request.path}?sent=1")
        if public.is_valid():
            submission_create(form=form, data=public.values(), token=public.token)
            return redirect(f"{request.path}?sent=1")
    else:
        public = PublicForm(form=form)
    context["form"] = public
    return render(request, "automation/public/form.html", context)


@require_http_methods(["GET", "POST"])
def public_booking(request: HttpRequest, slug: str):
    calendar = get_object_or_404(
        Calendar.objects.select_related("workspace"), slug=slug, is_active=True
    )
    locale_activate(calendar.workspace.locale)  # the price as the business writes amounts
    booking = BookingForm(request.POST or None)
    if request.method == "POST" and SUBMISSION_RATE.used_up(_rate_key(calendar, request)):
        context = {"object": calendar, "sent": False}
        return render(request, "automation/public/rate_limited.html", context, status=429)
    if request.method == "POST" and booking.is_valid():
        data = booking.cleaned_data
        try:
            appointment = appointment_book(
                calendar=calendar,
                starts_at=data["slot"],
                name=data["name"],
                email=data["email"],
                phone=data["phone"],
            )
        except SlotTaken as error:
            mine = _same_booking_just_made(calendar, data)
            if mine is not None:  # the page sent twice: show the booking it made
                return redirect(f"{request.path}?booked={mine.uuid}")
            booking.add_error("slot", error)
        except ValidationError as error:
            booking.add_error("slot", error.message_dict.get("slot", error.messages))
        else:
            SUBMISSION_RATE.hit(_rate_key(calendar, request))  # only bookings made count
            return redirect(f"{request.path}?booked={appointment.uuid}")
    booked = None
    if request.GET.get("booked"):
        booked = Appointment.objects.filter(
            calendar=calendar, uuid=_uuid_or_none(request.GET["booked"])
        ).first()
    chosen = request.POST.get("slot", "")
    context = {"calendar": calendar, "form": booking, "booked": booked, "chosen": chosen}
    context["days"] = calendar_days(calendar) if booked is None else []
    context["has_slots"] = any(day.slots for day in context["days"])
    return render(request, "automation/public/booking.html", context)


def _same_booking_just_made(calendar, data) -> Appointment | None:
    """The booking this person made of this slot moments ago (a double click, a resend)."""
    return (
        Appointment.objects.filter(
            calendar=calendar,
            starts_at=data["slot"],
            email__iexact=data["email"],
            created_at__gte=timezone.now() - timedelta(minutes=10),
        )
        .exclude(status=Appointment.Status.CANCELLED)
        .first()
    )


def _uuid_or_none(text: str):
    try:
        return uuid.UUID(text)
    except ValueError:
        return None
