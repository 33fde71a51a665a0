"""Staff pages for forms: list, build (create/edit), submissions."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from automation.form_forms import DEFAULT_FIELDS, FieldFormSet, FieldRowForm, FormMetaForm
from automation.form_forms import field_rows as rows_of
from automation.services.forms import form_save
from portal import perms
from portal.access import PortalRequest, workspace_view
from portal.pagination import paginate


@workspace_view(perms.WORKFLOW_EDIT)
@require_GET
@vary_on_headers("HX-Request", "HX-Target")
def form_list(request: PortalRequest):
    forms = request.workspace.forms.all()
    template = "automation/forms/list.html"
    if request.htmx and request.htmx.target == "form-results":
        template += "#results"
    return render(request, template, {"page": paginate(request, forms)})


@workspace_view(perms.WORKFLOW_EDIT)
@require_http_methods(["GET", "POST"])
def form_edit(request: PortalRequest, form_uuid=None):
    """Create a form (no uuid) or edit one: its settings and its fields, in order."""
    form = None
    if form_uuid is not None:
        form = get_object_or_404(request.workspace.forms, uuid=form_uuid)
    if request.method == "POST":
        meta, fields = FormMetaForm(request.POST), FieldFormSet(request.POST, prefix="fields")
    elif form is not None:
        meta = FormMetaForm(initial=FormMetaForm.initial_for(form))
        initial = [FieldRowForm.initial_for(f) for f in form.fields.all()]
        fields = FieldFormSet(initial=initial, prefix="fields")
    else:
        meta, fields = FormMetaForm(), FieldFormSet(initial=DEFAULT_FIELDS, prefix="fields")
    if request.method == "POST" and meta.is_valid() and fields.is_valid():
        try:
            saved = form_save(
                workspace=request.workspace, form=form, **meta.cleaned_data, fields=rows_of(fields)
            )
        except ValidationError as error:
            _add_errors(meta, error)
        else:
            messages.success(request, f"Form {saved.name} saved.")
            return redirect(saved)
    context = {"form": meta, "fields": fields, "object": form}
    return render(request, "automation/forms/edit.html", context)


def _add_errors(meta: FormMetaForm, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            meta.add_error(name if name in meta.fields else None, errors)
    else:
        meta.add_error(None, error)


@workspace_view(perms.WORKFLOW_EDIT)
@require_GET
@vary_on_headers("HX-Request", "HX-Target")
def form_submission_list(request: PortalRequest, form_uuid):
    form = get_object_or_404(request.workspace.forms, uuid=form_uuid)
    submissions = form.submissions.select_related("contact")
    fields = list(form.fields.all())
    page = paginate(request, submissions)
    rows = [(s, [s.data.get(f.key) for f in fields]) for s in page.object_list]
    context = {"object": form, "fields": fields, "page": page, "rows": rows}
    template = "automation/forms/submissions.html"
    if request.htmx and request.htmx.target == "submission-results":
        template += "#results"
    return render(request, template, context)
