"""The automation app's admin; forms and calendars live in their own module."""

from __future__ import annotations

from django.contrib import admin

import automation.admin_forms_calendars  # noqa: F401
from automation.models import Run, StepRun, Workflow, WorkflowVersion


@admin.register(Workflow)
class WorkflowAdmin(admin.ModelAdmin):
    list_display = ["name", "workspace", "status", "updated_at"]
    list_filter = ["status", "workspace"]
    search_fields = ["name", "uuid"]
    readonly_fields = ["uuid", "published_version", "created_at", "updated_at"]


@admin.register(WorkflowVersion)
class WorkflowVersionAdmin(admin.ModelAdmin):
    """Versions are immutable: read-only here too."""

    list_display = ["workflow", "number", "trigger_type", "created_at"]
    list_filter = ["trigger_type"]
    search_fields = ["workflow__name"]
    readonly_fields = [f.name for f in WorkflowVersion._meta.concrete_fields]


class StepRunInline(admin.TabularInline):
    model = StepRun
    extra = 0
    can_delete = False
    fields = ["position", "name", "step_type", "status", "attempts", "error_code",
              "idempotency_key", "finished_at"]  # fmt: skip
    readonly_fields = fields


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    list_display = ["uuid", "workflow", "status", "contact", "is_test", "created_at"]
    list_filter = ["status", "is_test", "trigger_type"]
    search_fields = ["uuid", "cause", "workflow__name", "contact__email"]
    list_select_related = ["workflow", "contact"]
    readonly_fields = ["uuid", "workflow", "version", "contact", "cause", "trigger_type",
                       "created_at", "started_at", "finished_at", "claimed_at"]  # fmt: skip
    inlines = [StepRunInline]


@admin.register(StepRun)
class StepRunAdmin(admin.ModelAdmin):
    list_display = ["run", "step_key", "status", "attempts", "error_code", "finished_at"]
    list_filter = ["status", "step_type", "error_code"]
    search_fields = ["run__uuid", "idempotency_key", "step_key"]
    list_select_related = ["run"]
    readonly_fields = [f.name for f in StepRun._meta.concrete_fields]
