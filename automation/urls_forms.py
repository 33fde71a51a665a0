"""Workspace URLs (under w/<ws>/) for forms, calendars and appointments."""

from __future__ import annotations

from django.urls import path

from automation.views import calendars, forms

urlpatterns = [
    path("forms/", forms.form_list, name="form_list"),
    path("forms/new/", forms.form_edit, name="form_create"),
    path("forms/<uuid:form_uuid>/", forms.form_edit, name="form_edit"),
    path(
        "forms/<uuid:form_uuid>/submissions/",
        forms.form_submission_list,
        name="form_submission_list",
    ),
    path("calendars/", calendars.calendar_list, name="calendar_list"),
    path("calendars/new/", calendars.calendar_edit, name="calendar_create"),
    path("calendars/<uuid:calendar_uuid>/", calendars.calendar_edit, name="calendar_edit"),
    path("appointments/", calendars.appointment_list, name="appointment_list"),
    path(
        "appointments/<uuid:appointment_uuid>/",
        calendars.appointment_detail,
        name="appointment_detail",
    ),
]
