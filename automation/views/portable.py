"""Copy a workflow to another workspace; export it as a file; import such a file.

The copy's destination is one of the member's other workspaces where they hold workflow=edit
(`portable.copy_destinations`); any other destination is answered 404 and copies nothing, as a
page of a workspace they cannot open would be.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from automation import portable
from automation.models import Workflow
from portal import perms
from portal.access import PortalRequest, workspace_view
from portal.audit import audit_by


class CopyForm(forms.Form):
    destination = forms.ChoiceField(
        label="Copy to",
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the workspace to copy the workflow to."},
    )

    def __init__(self, *args, destinations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["destination"].choices = [(w.slug, w.name) for w in destinations]


class ImportForm(forms.Form):
    file = forms.FileField(
        label="Workflow file",
        help_text="A .workflow.json file made by Export on a workflow's page (at most 1 MB).",
        error_messages={"required": "Choose the workflow file to import."},
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > portable.MAX_BYTES:  # refused before it is read
            raise ValidationError(
                f"The file is too large ({upload.size:,} bytes): a workflow export is at most 1 MB."
            )
        self.bundle = portable.bundle_read(upload.read())
        return upload


def _workflow(request: PortalRequest, workflow_uuid) -> Workflow:
    return get_object_or_404(
        request.workspace.workflows.select_related("workspace"), uuid=workflow_uuid
    )


def _verified(user) -> bool:
    """Whether this session gave a two-factor code (as portal.access checks it)."""
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified and is_verified())


@workspace_view(perms.WORKFLOW_EDIT)
@require_http_methods(["GET", "POST"])
def workflow_copy(request: PortalRequest, workflow_uuid):
    """Choose a workspace; POST copies the draft there and opens the copy."""
    workflow = _workflow(request, workflow_uuid)
    destinations = portable.copy_destinations(
        request.user, source=request.workspace, verified=_verified(request.user)
    )
    form = CopyForm(request.POST if request.method == "POST" else None, destinations=destinations)
    if request.method == "POST":
        wanted = request.POST.get("destination", "")
        if wanted and wanted not in {w.slug for w in destinations}:
            raise Http404("No such workspace.")
        if form.is_valid():
            destination = next(w for w in destinations if w.slug == wanted)
            try:
                made = portable.workflow_copy(
                    workflow=workflow, destination=destination, **audit_by(request)
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(
                    request,
                    f"Copied {workflow.name} from {request.workspace.name} to "
                    f"{destination.name}: {made.name} is a draft here.",
                )
                return redirect(made)
    context = {"workflow": workflow, "form": form, "destinations": destinations}
    return render(request, "automation/workflows/copy.html", context)


@workspace_view(perms.WORKFLOW_EDIT)
@require_GET
def workflow_export(request: PortalRequest, workflow_uuid):
    """The draft as a `<name>.workflow.json` download: no secrets, no Stripe connections or
    customer IDs, no contact data."""
    workflow = _workflow(request, workflow_uuid)
    body = portable.bundle_dumps(portable.bundle_build(workflow))
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    filename = portable.export_filename(workflow)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@workspace_view(perms.WORKFLOW_EDIT)
@require_http_methods(["GET", "POST"])
def workflow_import(request: PortalRequest):
    """Upload a workflow file: checked whole, then a draft with its forms and calendars, or
    the messages beside the file field and nothing created."""
    posted = request.method == "POST"
    form = ImportForm(request.POST if posted else None, request.FILES if posted else None)
    if posted and form.is_valid():
        try:
            made = portable.workflow_import(
                workspace=request.workspace, bundle=form.bundle, **audit_by(request)
            )
        except ValidationError as error:
            form.add_error("file", error)
        else:
            messages.success(request, f"Imported {made.name}, as a draft.")
            return redirect(made)
    return render(request, "automation/workflows/import.html", {"form": form})
