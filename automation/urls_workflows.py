"""Workspace URLs (under w/<ws>/workflows/) for workflows, the builder and run history."""

from __future__ import annotations

from django.urls import path

from automation.views import portable, runs, versions, workflows

WF = "<uuid:workflow_uuid>/"
STEP = WF + "steps/<slug:step_key>/"
RUN = WF + "runs/<uuid:run_uuid>/"
VERSION = WF + "versions/<uuid:version_uuid>/"

urlpatterns = [
    path("", workflows.workflow_list, name="workflow_list"),
    path("new/", workflows.workflow_create, name="workflow_create"),
    path(WF, workflows.workflow_builder, name="workflow_builder"),
    path(WF + "rename/", workflows.workflow_rename, name="workflow_rename"),
    path(WF + "duplicate/", workflows.workflow_duplicate, name="workflow_duplicate"),
    path(WF + "delete/", workflows.workflow_delete, name="workflow_delete"),
    path("import/", portable.workflow_import, name="workflow_import"),
    path(WF + "copy/", portable.workflow_copy, name="workflow_copy"),
    path(WF + "export/", portable.workflow_export, name="workflow_export"),
    path(WF + "publish/", workflows.workflow_publish, name="workflow_publish"),
    path(WF + "publish-changes/", versions.publish_changes, name="workflow_publish_changes"),
    path(WF + "versions/", versions.workflow_versions, name="workflow_versions"),
    path(VERSION + "restore/", versions.version_restore, name="workflow_version_restore"),
    path(WF + "trigger/", workflows.workflow_trigger, name="workflow_trigger"),
    path(WF + "steps/add/", workflows.step_add, name="workflow_step_add"),
    path(STEP, workflows.step_edit, name="workflow_step"),
    path(STEP + "remove/", workflows.step_remove, name="workflow_step_remove"),
    path(STEP + "move/", workflows.step_move, name="workflow_step_move"),
    path(WF + "settings/", workflows.workflow_settings, name="workflow_settings"),
    path(WF + "test/", workflows.workflow_test, name="workflow_test"),
    path(WF + "runs/", runs.run_list, name="run_list"),
    path(RUN, runs.run_detail, name="run_detail"),
    path(RUN + "retry/", runs.run_retry, name="run_retry"),
    path(RUN + "retry-now/", runs.run_retry_now, name="run_retry_now"),
    path(RUN + "cancel/", runs.run_cancel_confirm, name="run_cancel"),
]
