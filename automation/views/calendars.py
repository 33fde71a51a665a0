"""Staff pages for calendars (list, create/edit) and appointments (list, detail + status)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from automation.calendar_forms import (
    AppointmentSearchForm,
    AppointmentStatusForm,
    AvailabilityFormSet,
    CalendarForm,
    availability_rows,
)
from automation.selectors import appointment_payment
from automation.services.calendars import appointment_status_set, calendar_save
from portal import perms
from portal.access import PortalRequest, workspace_view
from portal.pagination import paginate

WEEKDAYS = [{"weekday": day, "start_time": "09:00", "end_time": "17:00"} for day in range(5)]


@workspace_view(perms.WORKFLOW_EDIT)
@require_GET
@vary_on_headers("HX-Request", "HX-Target")
def calendar_list(request: PortalRequest):
    calendars = request.workspace.calendars.prefetch_related("availability")
    template = "automation/calendars/list.html"
    if request.htmx and request.htmx.target == "calendar-results":
        template += "#results"
    return render(request, template, {"page": paginate(request, calendars)})


@workspace_view(perms.WORKFLOW_EDIT)
@require_http_methods(["GET", "POST"])
def calendar_edit(request: PortalRequest, calendar_uuid=None):
    """Create a calendar (no uuid) or edit one, with its weekly availability."""
    calendar = None
    if calendar_uuid is not None:
        calendar = get_object_or_404(request.workspace.calendars, uuid=calendar_uuid)
    if request.method == "POST":
        form = CalendarForm(request.POST)
        windows = AvailabilityFormSet(request.POST, prefix="availability")
    elif calendar is not None:
        form = CalendarForm(initial=CalendarForm.initial_for(calendar))
        initial = list(calendar.availability.values("weekday", "start_time", "end_time"))
        windows = AvailabilityFormSet(initial=initial, prefix="availability")
    else:
        form = CalendarForm()
        windows = AvailabilityFormSet(initial=WEEKDAYS, prefix="availability")
    if request.method == "POST" and form.is_valid() and windows.is_valid():
        try:
            saved = calendar_save(
                workspace=request.workspace,
                calendar=calendar,
                **form.to_fields(),
                availability=availability_rows(windows),
            )
        except ValidationError as error:
            for name, errors in getattr(error, "error_dict", {None: error.error_list}).items():
                form.add_error(name if name in form.fields else None, errors)
        else:
            messages.success(request, f"Calendar {saved.name} saved.")
            return redirect(saved)
    context = {"form": form, "windows": windows, "object": calendar}
    return render(request, "automation/calendars/edit.html", context)


@workspace_view(perms.WORKFLOW_EDIT)
@require_GET
@vary_on_headers("HX-Request", "HX-Target")
def appointment_list(request: PortalRequest):
    search = AppointmentSearchForm(request.GET, workspace=request.workspace)
    appointments = request.workspace.appointments.select_related("calendar", "contact")
    appointments = appointments.prefetch_related("payments")
    if search.is_valid():
        if search.cleaned_data["calendar"]:
            appointments = appointments.filter(calendar__uuid=search.cleaned_data["calendar"])
        if search.cleaned_data["status"]:
            appointments = appointments.filter(status=search.cleaned_data["status"])
    filters = request.GET.copy()
    filters.pop("page", None)
    page = paginate(request, appointments)
    context = {
        "page": page,
        "rows": [(a, appointment_payment(a)) for a in page.object_list],
        "search": search,
        "filters": filters.urlencode(),
    }
    template = "automation/calendars/appointments.html"
    if request.htmx and request.htmx.target == "appointment-results":
        template += "#results"
    return render(request, template, context)


@workspace_view(perms.WORKFLOW_EDIT)
@require_http_methods(["GET", "POST"])
def appointment_detail(request: PortalRequest, appointment_uuid):
    """An appointment; POST changes its status (which starts "status changed" workflows)."""
    appointments = request.workspace.appointments.select_related("calendar", "contact")
    appointment = get_object_or_404(appointments, uuid=appointment_uuid)
    form = AppointmentStatusForm(request.POST or None, initial={"status": appointment.status})
    if request.method == "POST" and form.is_valid():
        try:
            appointment_status_set(appointment=appointment, status=form.cleaned_data["status"])
        except ValidationError as error:
            form.add_error("status", error.message_dict.get("status", error.messages))
        else:
            messages.success(request, "Status saved.")
            return redirect(appointment)
    payment = appointment_payment(appointment)
    context = {"appointment": appointment, "form": form, "payment": payment}
    return render(request, "automation/calendars/appointment_detail.html", context)
