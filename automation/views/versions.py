"""A workflow's versions: "Publish changes", the version history, "Restore as draft".

A published workflow's draft may differ from its live version; the builder header says so
and lists what differs (`publish_state`, used by every page that shows the header).
"Publish changes" makes the next version live in one step, without a moment unpublished.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from automation.models import Workflow
from automation.services import workflows as services
from portal import perms
from portal.access import PortalRequest, workspace_view
from portal.audit import audit_by


def _workflow(request: PortalRequest, workflow_uuid) -> Workflow:
    return get_object_or_404(
        request.workspace.workflows.select_related("workspace", "published_version"),
        uuid=workflow_uuid,
    )


def publish_state(request: PortalRequest, workflow: Workflow) -> dict:
    """What the header shows about publishing: whether the member may publish, and, for a
    published workflow, what the draft changes from the live version (empty: nothing to
    publish)."""
    published = workflow.status == Workflow.Status.PUBLISHED
    return {
        "can_publish": perms.WORKFLOW_PUBLISH in request.workspace_perms,
        "changes_known": True,
        "unpublished_changes": services.workflow_changes(workflow) if published else [],
    }


@workspace_view(perms.WORKFLOW_PUBLISH)
@require_POST
def publish_changes(request: PortalRequest, workflow_uuid):
    """The button "Publish changes": the draft of a published workflow becomes version n+1, live."""
    workflow = _workflow(request, workflow_uuid)
    try:
        version = services.workflow_publish(
            workflow=workflow, changes_only=True, **audit_by(request)
        )
    except ValidationError as error:
        messages.error(request, "Not published. " + " ".join(error.messages))
    else:
        messages.success(request, f"Published version {version.number}: it is live.")
    return redirect(workflow)


@workspace_view(perms.WORKFLOW_EDIT)
@require_GET
def workflow_versions(request: PortalRequest, workflow_uuid):
    """Every version, newest first: who published it, when, what it changed; the live one."""
    workflow = _workflow(request, workflow_uuid)
    context = {
        "workflow": workflow,
        "history": services.version_history(workflow),
        "tab": "versions",
        **publish_state(request, workflow),
    }
    return render(request, "automation/workflows/versions.html", context)


@workspace_view(perms.WORKFLOW_EDIT)
@require_http_methods(["GET", "POST"])
def version_restore(request: PortalRequest, workflow_uuid, version_uuid):
    """GET: what restoring would change, to confirm; POST: the version becomes the draft."""
    workflow = _workflow(request, workflow_uuid)
    version = get_object_or_404(workflow.versions, uuid=version_uuid)
    if request.method == "POST":
        try:
            services.version_restore(workflow=workflow, version=version, **audit_by(request))
        except ValidationError as error:
            messages.info(request, " ".join(error.messages))
            return redirect("workflow_versions", request.workspace.slug, workflow.uuid)
        messages.success(
            request,
            f"Version {version.number} restored as the draft. Nothing is live until you "
            "publish it.",
        )
        return redirect(workflow)
    changes = services.definition_changes(
        workspace=request.workspace,
        old=workflow.definition,
        new=version.definition,
        old_settings=services.workflow_settings(workflow),
        new_settings=services.version_settings(version),
    )
    context = {"workflow": workflow, "version": version, "changes": changes}
    return render(request, "automation/workflows/version_restore.html", context)
