"""Workflows: the list, create/rename/duplicate/delete, and the builder.

The builder is one page: the flow (trigger card, then steps) and a side panel (choose a
trigger, add an action, a step's settings, safety settings, test run). Every panel has its
own URL, so it works without JavaScript; with htmx a click swaps `#wf-builder` (flow and
panel) for the `builder` partial of the same template.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from automation import registry
from automation.definition import branches_of, step_find, steps_of
from automation.models import Run, Workflow
from automation.services import workflows as services
from automation.services.runs import runs_set_aside
from automation.views.versions import publish_state
from automation.workflow_forms import (
    PublishForm,
    SafetySettingsForm,
    StepAddForm,
    StepMoveForm,
    StepNameForm,
    TestRunForm,
    TriggerTypeForm,
    WorkflowNameForm,
)
from portal import perms
from portal.access import PortalRequest, workspace_view
from portal.audit import audit_by
from portal.pagination import paginate

BUILDER = "automation/workflows/builder.html"


def _workflow(request: PortalRequest, workflow_uuid) -> Workflow:
    return get_object_or_404(
        request.workspace.workflows.select_related("workspace", "published_version"),
        uuid=workflow_uuid,
    )


def _errors_of(error: ValidationError) -> list[str]:
    return [message for message in error.messages]


# --- the builder's page and partial ----------------------------------------------------------


def _step_cards(workflow: Workflow, steps: list, selected: str) -> list[dict]:
    """The steps as the flow shows them: label, problems, branches (recursively)."""
    cards = []
    for step in steps:
        known = step.get("type") in registry.ACTIONS
        action = registry.action(step["type"]) if known else None
        card = {
            "step": step,
            "label": action.label if action else f"Unknown action {step.get('type')}",
            "uses_stripe": bool(action and action.uses_stripe),
            "problems": services.step_config_errors(workspace=workflow.workspace, step=step)
            if known
            else ["This action no longer exists."],
            "safety": services.step_safety_problem(workflow=workflow, step=step),
            "selected": step["key"] == selected,
            "branches": [
                {
                    "ref": f"{step['key']}:{side}",
                    "label": "If the condition holds" if side == "then" else "Otherwise",
                    "cards": _step_cards(workflow, inner, selected),
                }
                for side, inner in branches_of(step)
            ],  # fmt: skip
        }
        cards.append(card)
    return cards


def _render_builder(request: PortalRequest, workflow: Workflow, panel: str = "", **context):
    """The builder page, or its `builder` partial for an htmx request (status 200 either way:
    an invalid form is shown again with its errors)."""
    trigger = (workflow.definition or {}).get("trigger") or None
    trigger_info = None
    if trigger and trigger.get("type") in registry.TRIGGERS:
        trigger_class = registry.trigger(trigger["type"])
        trigger_info = {
            "label": trigger_class.label,
            "summary": trigger_class.describe(trigger.get("config") or {}, workflow.workspace),
        }
    if "problems" not in context:
        context["problems"] = services.workflow_problems(workflow)
    context = {
        "workflow": workflow,
        "trigger": trigger_info,
        "recent_tests": workflow.runs.filter(is_test=True)[:5] if panel == "test" else (),
        "cards": _step_cards(
            workflow, steps_of(workflow.definition), context.get("step", {}).get("key", "")
        ),  # fmt: skip
        "panel": panel,
        **publish_state(request, workflow),
        "tab": "builder",
        **context,
    }
    template = BUILDER + ("#builder" if request.htmx else "")
    return render(request, template, context)


def _done(request: PortalRequest, workflow: Workflow, notice: str, url: str | None = None):
    """After a change: the refreshed builder (htmx) or a redirect with a message."""
    if request.htmx:
        response = _render_builder(request, workflow, notice=notice)
        response["HX-Push-Url"] = workflow.get_absolute_url()
        return response
    messages.success(request, notice)
    return redirect(url or workflow.get_absolute_url())


def _refused(request: PortalRequest, workflow: Workflow, error: ValidationError):
    """A POST that cannot name what it changes (a tampered or stale page): say so."""
    if request.htmx:
        return _render_builder(request, workflow, refused=_errors_of(error))
    for message in _errors_of(error):
        messages.error(request, message)
    return redirect(workflow)


# --- workflows -----------------------------------------------------------------------------------


@workspace_view(perms.WORKFLOW_EDIT)
@require_GET
def workflow_list(request: PortalRequest):
    last = Run.objects.filter(workflow=OuterRef("pk")).order_by("-created_at", "-id")
    workflows = request.workspace.workflows.select_related("published_version").annotate(
        last_run_at=Subquery(last.values("created_at")[:1]),
        last_run_status=Subquery(last.values("status")[:1]),
    )
    page = paginate(request, workflows)
    rows = [(w, registry.TRIGGERS.get(w.trigger_type, ("",))[0]) for w in page.object_list]
    statuses = dict(Run.Status.choices)
    context = {"page": page, "rows": rows, "run_statuses": statuses}
    return render(request, "automation/workflows/list.html", context)


@workspace_view(perms.WORKFLOW_EDIT)
@require_http_methods(["GET", "POST"])
def workflow_create(request: PortalRequest):
    form = WorkflowNameForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        workflow = services.workflow_create(
            workspace=request.workspace, name=form.cleaned_data["name"]
        )
        messages.success(request, f"Workflow {workflow.name} created. Add its trigger.")
        return redirect(workflow)
    return render(request, "automation/workflows/name.html", {"form": form})


@workspace_view(perms.WORKFLOW_EDIT)
@require_http_methods(["GET", "POST"])
def workflow_rename(request: PortalRequest, workflow_uuid):
    workflow = _workflow(request, workflow_uuid)
    form = WorkflowNameForm(request.POST or None, initial={"name": workflow.name})
    if request.method == "POST" and form.is_valid():
        services.workflow_rename(workflow=workflow, name=form.cleaned_data["name"])
        messages.success(request, f"Workflow renamed to {workflow.name}.")
        return redirect(workflow)
    context = {"form": form, "workflow": workflow}
    return render(request, "automation/workflows/name.html", context)


@workspace_view(perms.WORKFLOW_EDIT)
@require_POST
def workflow_duplicate(request: PortalRequest, workflow_uuid):
    copy = services.workflow_duplicate(workflow=_workflow(request, workflow_uuid))
    messages.success(request, f"{copy.name} created, as a draft.")
    return redirect(copy)


@workspace_view(perms.WORKFLOW_EDIT)
@require_http_methods(["GET", "POST"])
def workflow_delete(request: PortalRequest, workflow_uuid):
    workflow = _workflow(request, workflow_uuid)
    if request.method == "POST":
        services.workflow_delete(workflow=workflow, **audit_by(request))
        messages.success(request, f"Workflow {workflow.name} deleted.")
        return redirect("workflow_list", request.workspace.slug)
    context = {"workflow": workflow, "run_count": workflow.runs.count()}
    return render(request, "automation/workflows/delete.html", context)


@workspace_view(perms.WORKFLOW_PUBLISH)
@require_POST
def workflow_publish(request: PortalRequest, workflow_uuid):
    """The Publish toggle: `published` on publishes the draft as a new version, off stops."""
    workflow = _workflow(request, workflow_uuid)
    form = PublishForm(request.POST)
    form.is_valid()
    if not form.cleaned_data.get("published"):
        waiting = runs_set_aside(workflow).count()
        if waiting and not request.POST.get("confirmed"):
            context = {"workflow": workflow, "waiting": waiting}
            return render(request, "automation/workflows/unpublish.html", context)
        cancel = bool(request.POST.get("cancel_waiting"))
        services.workflow_unpublish(workflow=workflow, cancel_waiting=cancel, **audit_by(request))
        runs = f"Its {waiting} waiting run{'s' if waiting != 1 else ''}"
        note = (f" {runs} cancelled." if cancel else f" {runs} will finish.") if waiting else ""
        messages.success(request, "Unpublished: the workflow starts no new runs." + note)
        return redirect(workflow)
    try:
        version = services.workflow_publish(workflow=workflow, **audit_by(request))
    except ValidationError as error:
        messages.error(request, "Not published. " + " ".join(_errors_of(error)))
    else:
        messages.success(request, f"Published as version {version.number}: it is live.")
    return redirect(workflow)


# --- the builder -------------------------------------------------------------------------------


@workspace_view(perms.WORKFLOW_EDIT)
@require_GET
@vary_on_headers("HX-Request")
def workflow_builder(request: PortalRequest, workflow_uuid):
    return _render_builder(request, _workflow(request, workflow_uuid))


@sensitive_post_parameters("signing_secret")
@workspace_view(perms.WORKFLOW_EDIT)
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def workflow_trigger(request: PortalRequest, workflow_uuid):
    """Choose the trigger (no `type`: the list) and set its filters."""
    workflow = _workflow(request, workflow_uuid)
    chooser = TriggerTypeForm(request.POST or request.GET or None)
    if not chooser.is_bound or not chooser.is_valid():
        if request.method == "POST":
            return _refused(request, workflow, ValidationError("Choose a trigger."))
        choices = chooser.fields["type"].choices
        return _render_builder(request, workflow, "trigger_types", choices=choices)
    type = chooser.cleaned_data["type"]
    trigger_class, label = registry.trigger(type), registry.TRIGGERS[type][0]
    current = (workflow.definition or {}).get("trigger") or {}
    initial = current.get("config") if current.get("type") == type else None
    where = {"workspace": request.workspace, "workflow": workflow,
             "member_perms": request.workspace_perms}  # fmt: skip
    form = trigger_class.config_form(
        request.POST if request.method == "POST" else None, initial=initial, **where
    )
    said = {}
    if request.method == "POST" and form.is_valid():
        services.trigger_set(workflow=workflow, type=type, config=form.to_config())
        said["notice"] = f"Trigger saved: {label}."
        try:
            more = trigger_class.config_saved(workflow=workflow, form=form)
        except ValidationError as error:  # saved, but what lives beside it failed
            more, said["refused"] = "", _errors_of(error)
        if more is None:
            return _done(request, workflow, said["notice"])
        said["notice"] += f" {more}".rstrip()  # the panel stays open: its endpoint, its secret
        form = trigger_class.config_form(initial=form.to_config(), **where)
    return _render_builder(request, workflow, "trigger", trigger_type=type,
                           trigger_label=label, form=form, **said)  # fmt: skip


@workspace_view(perms.WORKFLOW_EDIT)
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def step_add(request: PortalRequest, workflow_uuid):
    """GET: the actions to choose from (`q` filters); POST: add one where the "+" was."""
    workflow = _workflow(request, workflow_uuid)
    if request.method == "GET":
        query = request.GET.get("q", "").strip().lower()
        actions = [
            {"key": key, "label": label, "description": registry.action(key).description}
            for key, (label, _) in registry.ACTIONS.items()
            if not query or query in label.lower()
        ]
        where = {"branch": request.GET.get("branch", ""), "after": request.GET.get("after")}
        return _render_builder(request, workflow, "add", actions=actions, query=query, **where)
    form = StepAddForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError("Choose an action to add.")
        step = services.step_add(workflow=workflow, **form.cleaned_data)
    except ValidationError as error:
        return _refused(request, workflow, error)
    if request.htmx:
        response = _step_panel(request, workflow, step, None, notice=f"{step['name']} added.")
        response["HX-Push-Url"] = _step_url(workflow, step["key"])
        return response
    messages.success(request, f"{step['name']} added. Fill in its settings.")
    return redirect("workflow_step", request.workspace.slug, workflow.uuid, step["key"])


def _step_url(workflow: Workflow, key: str) -> str:
    return reverse("workflow_step", args=[workflow.workspace.slug, workflow.uuid, key])


def _step_panel(request: PortalRequest, workflow: Workflow, step: dict, data, **context):
    """The step's settings: its name and its action's config form, variables offered."""
    action = registry.action(step["type"])
    name_form = StepNameForm(data, initial={"name": step.get("name")})
    config_form = action.config_form(
        data, initial=services.config_initial(action, step.get("config") or {}),
        workspace=request.workspace,
    )  # fmt: skip
    if data is not None and name_form.is_valid() and config_form.is_valid():
        try:
            services.step_update(workflow=workflow, key=step["key"],
                                 name=name_form.cleaned_data["name"],
                                 config=config_form.to_config())  # fmt: skip
        except ValidationError as error:
            name_form.add_error(None, error)
        else:
            return _done(request, workflow, f"Saved {name_form.cleaned_data['name']}.")
    variables = services.variables_for_step(workflow=workflow, key=step["key"])
    return _render_builder(
        request, workflow, "step", step=step, action_label=action.label,
        action_description=action.description, name_form=name_form, config_form=config_form,
        variable_fields=set(config_form.variable_fields), variables=variables, **context,
    )  # fmt: skip


def _step_or_404(workflow: Workflow, key: str) -> dict:
    try:
        return step_find(workflow.definition, key).step
    except ValidationError:
        raise Http404("No such step.") from None


@workspace_view(perms.WORKFLOW_EDIT)
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def step_edit(request: PortalRequest, workflow_uuid, step_key: str):
    """A step's settings (rename + its action's fields); saved whole or not at all."""
    workflow = _workflow(request, workflow_uuid)
    step = _step_or_404(workflow, step_key)
    return _step_panel(request, workflow, step, request.POST if request.method == "POST" else None)


@workspace_view(perms.WORKFLOW_EDIT)
@require_POST
def step_remove(request: PortalRequest, workflow_uuid, step_key: str):
    workflow = _workflow(request, workflow_uuid)
    try:
        removed = services.step_remove(workflow=workflow, key=step_key)
    except ValidationError as error:
        return _refused(request, workflow, error)
    return _done(request, workflow, f"Removed {removed.get('name') or step_key}.")


@workspace_view(perms.WORKFLOW_EDIT)
@require_POST
def step_move(request: PortalRequest, workflow_uuid, step_key: str):
    workflow = _workflow(request, workflow_uuid)
    form = StepMoveForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError("Move a step up or down.")
        services.step_move(workflow=workflow, key=step_key, **form.cleaned_data)
    except ValidationError as error:
        return _refused(request, workflow, error)
    return _done(request, workflow, "Step moved.")


@workspace_view(perms.WORKFLOW_EDIT)
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def workflow_settings(request: PortalRequest, workflow_uuid):
    """Safety settings: the largest charge, the most per day, re-entry."""
    workflow = _workflow(request, workflow_uuid)
    form = SafetySettingsForm.for_workflow(workflow, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.workflow_settings_save(workflow=workflow, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return _done(request, workflow, "Safety settings saved.")
    return _render_builder(request, workflow, "settings", form=form, tab="settings")


@workspace_view(perms.WORKFLOW_EDIT)
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def workflow_test(request: PortalRequest, workflow_uuid):
    """Run the draft now with the trigger's sample event, for a chosen contact (or none)."""
    workflow = _workflow(request, workflow_uuid)
    form = TestRunForm(request.POST or None, workspace=request.workspace)
    if request.method == "POST" and form.is_valid():
        try:
            run = services.test_run_start(
                workflow=workflow, contact=form.cleaned_data["contact"], started_by=request.user
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if request.htmx:
                return HttpResponseClientRedirect(run.get_absolute_url())
            messages.success(request, "Test run started.")
            return redirect(run)
    return _render_builder(request, workflow, "test", form=form)
