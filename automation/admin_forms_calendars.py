"""Admin for forms, submissions, calendars, availability and appointments."""

from __future__ import annotations

from django.contrib import admin

from automation.models import Appointment, Availability, Calendar, Form, FormField, Submission


class FormFieldInline(admin.TabularInline):
    model = FormField
    extra = 0
    fields = ["position", "label", "key", "kind", "maps_to", "required", "choices"]


@admin.register(Form)
class FormAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "workspace", "is_active", "created_at"]
    list_filter = ["is_active", "workspace"]
    search_fields = ["name", "slug"]
    readonly_fields = ["uuid", "created_at", "updated_at"]
    inlines = [FormFieldInline]


@admin.register(FormField)
class FormFieldAdmin(admin.ModelAdmin):
    list_display = ["label", "key", "kind", "maps_to", "required", "form"]
    list_filter = ["kind", "maps_to", "required"]
    search_fields = ["label", "key", "form__name"]
    list_select_related = ["form"]
    readonly_fields = ["uuid"]


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ["form", "contact", "workspace", "submitted_at"]
    list_filter = ["workspace", "form"]
    search_fields = ["form__name", "contact__name", "contact__email"]
    list_select_related = ["form", "contact", "workspace"]
    raw_id_fields = ["contact"]
    readonly_fields = ["uuid"]
    date_hierarchy = "submitted_at"


class AvailabilityInline(admin.TabularInline):
    model = Availability
    extra = 0
    fields = ["weekday", "start_time", "end_time"]


@admin.register(Calendar)
class CalendarAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "workspace", "slot_minutes", "time_zone", "price_amount",
                    "price_currency", "is_active"]  # fmt: skip
    list_filter = ["is_active", "workspace"]
    search_fields = ["name", "slug"]
    readonly_fields = ["uuid", "created_at", "updated_at"]
    inlines = [AvailabilityInline]


@admin.register(Availability)
class AvailabilityAdmin(admin.ModelAdmin):
    list_display = ["calendar", "weekday", "start_time", "end_time"]
    list_filter = ["weekday"]
    search_fields = ["calendar__name"]
    list_select_related = ["calendar"]
    readonly_fields = ["uuid"]


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "calendar", "starts_at", "status", "payment_status",
                    "workspace"]  # fmt: skip
    list_filter = ["status", "payment_status", "workspace"]
    search_fields = ["name", "email", "phone", "calendar__name"]
    list_select_related = ["calendar", "workspace"]
    raw_id_fields = ["contact"]
    readonly_fields = ["uuid", "status_changes", "created_at", "updated_at"]
    date_hierarchy = "starts_at"
