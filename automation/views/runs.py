"""Enrollment history: a workflow's runs, one run's step timeline, retrying a failed run,
retrying a run now instead of at its next attempt, cancelling a run."""

from __future__ import annotations

import json
import re

from django.contrib import messages
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from automation.definition import branches_of, steps_of
from automation.models import Run, StepRun, Workflow
from automation.services.runs import (
    CANCELLABLE,
    run_cancel,
    run_resume_now,
    run_retry_from_failed,
)
from automation.workflow_forms import RunFilterForm
from portal import perms
from portal.access import PortalRequest, workspace_view
from portal.pagination import paginate

STRIPE_ID = re.compile(r"^(pi|ch|cus|re|py|pm)_[A-Za-z0-9_]+$")
LIVE = {Run.Status.QUEUED, Run.Status.RUNNING, Run.Status.RETRYING, Run.Status.WAITING}


def stripe_ids(value) -> list[str]:
    """The Stripe object ids (pi_, ch_, cus_, re_ ...) anywhere in a step's outputs."""
    if isinstance(value, dict):
        return [found for v in value.values() for found in stripe_ids(v)]
    if isinstance(value, list):
        return [found for v in value for found in stripe_ids(v)]
    return [value] if isinstance(value, str) and STRIPE_ID.match(value) else []


def _workflow(request: PortalRequest, workflow_uuid) -> Workflow:
    return get_object_or_404(
        request.workspace.workflows.select_related("published_version"), uuid=workflow_uuid
    )


def _header(request: PortalRequest, workflow: Workflow) -> dict:
    can_publish = perms.WORKFLOW_PUBLISH in request.workspace_perms
    return {"workflow": workflow, "can_publish": can_publish, "tab": "runs"}


def _json(value) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=str)


@workspace_view(perms.WORKFLOW_EDIT)
@require_GET
@vary_on_headers("HX-Request", "HX-Target")
def run_list(request: PortalRequest, workflow_uuid):
    workflow = _workflow(request, workflow_uuid)
    filters = RunFilterForm(request.GET)
    runs = workflow.runs.select_related("contact", "version", "workspace")  # for its URL
    if filters.is_valid():
        data = filters.cleaned_data
        if data["status"]:
            runs = runs.filter(status=data["status"])
        if data["since"]:
            runs = runs.filter(created_at__date__gte=data["since"])
        if data["until"]:
            runs = runs.filter(created_at__date__lte=data["until"])
        if data["contact"].strip():
            text = data["contact"].strip()
            runs = runs.filter(Q(contact__name__icontains=text) | Q(contact__email__icontains=text))
    query = request.GET.copy()
    query.pop("page", None)
    context = {**_header(request, workflow), "filters": filters, "page": paginate(request, runs),
               "filter_query": query.urlencode()}  # fmt: skip
    template = "automation/runs/list.html"
    if request.htmx and request.htmx.target == "run-results":
        template += "#results"
    return render(request, template, context)


@workspace_view(perms.WORKFLOW_EDIT)
@require_GET
@vary_on_headers("HX-Request")
def run_detail(request: PortalRequest, workflow_uuid, run_uuid):
    """One run: its steps with inputs, outputs, errors, attempts, timing and Stripe ids. While
    it is not finished, the page polls its `live` partial every second (every 10 s while the
    run is set aside until a time)."""
    workflow = _workflow(request, workflow_uuid)
    runs = workflow.runs.select_related("contact", "version", "started_by")
    run = get_object_or_404(runs, uuid=run_uuid)
    steps = [
        {"row": step, "stripe_ids": stripe_ids(step.outputs), "inputs": _json(step.inputs),
         "outputs": _json(step.outputs), "retry": retry_note(step)}
        for step in run.steps.all()
    ]  # fmt: skip
    live = run.status in LIVE
    started = {item["row"].step_key: item["row"] for item in steps}
    context = {**_header(request, workflow), "run": run, "steps": steps, "live": live,
               "to_come": _to_come(run, started) if live else [],
               "cancellable": run.status in CANCELLABLE,
               # A run set aside for hours need not be asked about every second.
               "poll": "10s" if run.status in (Run.Status.RETRYING, Run.Status.WAITING) else "1s",
               "trigger_json": _json(run.trigger)}  # fmt: skip
    template = "automation/runs/detail.html" + ("#live" if request.htmx else "")
    return render(request, template, context)


# Why a failed step is not retried, by normalized code (the error table, integrations/errors.py).
_NOT_RETRIED = {
    "VALIDATION_ERROR": "Not retried: the request must be corrected first.",
    "AUTH_EXPIRED": "Not retried: update the Stripe connection's key.",
    "PAYMENT_REQUIRED": "Not retried: the payment was declined.",
    "PERMISSION_DENIED": "Not retried: the Stripe key lacks a permission.",
    "NOT_FOUND": "Not retried: the object does not exist in Stripe.",
    "CONFLICT": "Not retried: the request conflicts with the object's state in Stripe.",
}


def retry_note(step: StepRun) -> str:
    """Whether the step's error will be retried, in words ("" without an error)."""
    if not step.error_code:
        return ""
    if step.status == StepRun.Status.RETRYING:
        if step.error_code == "CONFLICT":
            return "Waiting for the same request, still in progress at Stripe, then asking again."
        return "Will be retried automatically with the same request."
    if step.status != StepRun.Status.FAILED:
        return ""
    if step.error_code == "INTERNAL_ERROR":
        return "Not retried: an error in the portal; retrying the run sends the same request."
    if step.error_retryable:
        return f"Not retried any more: gave up after {step.attempts} attempts."
    return _NOT_RETRIED.get(step.error_code, "Not retried.")


_SIDE_WORDS = {"then": "Yes", "else": "No"}


def _to_come(run: Run, started: dict, steps=None, branch: str = "") -> list[dict]:
    """The steps of the run's workflow that have not started yet, in order. Below an if/else
    that has decided, its taken side only; below one still to come, both sides, each saying
    which branch it is on (only one of them will run)."""
    if steps is None:
        steps = steps_of(run.definition)
    pending = []
    for step in steps:
        step_run = started.get(step.get("key"))
        if step_run is None:
            pending.append({"name": step.get("name") or step.get("type"), "type": step.get("type"),
                            "branch": branch})  # fmt: skip
        decided = step_run is not None and step_run.status == StepRun.Status.SUCCEEDED
        label = step.get("name") or step.get("key")
        for side, inner in branches_of(step):
            if decided and side != step_run.outputs.get("branch"):
                continue
            on = branch if decided else f"only on the “{_SIDE_WORDS[side]}” branch of “{label}”"
            pending += _to_come(run, started, inner, on)
    return pending


@workspace_view(perms.WORKFLOW_EDIT)
@require_POST
def run_retry(request: PortalRequest, workflow_uuid, run_uuid):
    """Start a failed run again at its failed step (finished steps are not repeated)."""
    workflow = _workflow(request, workflow_uuid)
    run = get_object_or_404(workflow.runs, uuid=run_uuid)
    try:
        run_retry_from_failed(run=run)
    except ValueError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Retrying from the failed step.")
    return redirect(run)


@workspace_view(perms.WORKFLOW_EDIT)
@require_POST
def run_retry_now(request: PortalRequest, workflow_uuid, run_uuid):
    """ "Retry now": the run waiting to retry makes its next attempt at once. Pressed twice,
    or after a worker took the run, it says so and changes nothing."""
    workflow = _workflow(request, workflow_uuid)
    run = get_object_or_404(workflow.runs, uuid=run_uuid)
    if run_resume_now(run=run):
        messages.success(request, "Retrying now.")
    else:
        messages.info(request, "The run is not waiting to retry any more: a worker has it.")
    return redirect(run)


@workspace_view(perms.WORKFLOW_EDIT)
@require_http_methods(["GET", "POST"])
def run_cancel_confirm(request: PortalRequest, workflow_uuid, run_uuid):
    """Cancel a run that has not finished, after a confirmation page: it executes no other
    step."""
    workflow = _workflow(request, workflow_uuid)
    run = get_object_or_404(workflow.runs.select_related("contact"), uuid=run_uuid)
    if request.method == "POST":
        if run_cancel(run=run, by=request.user.get_username()):
            messages.success(request, "Run cancelled: it executes no other step.")
        else:
            messages.info(request, "The run had finished; nothing was cancelled.")
        return redirect(run)
    context = {**_header(request, workflow), "run": run, "cancellable": run.status in CANCELLABLE}
    return render(request, "automation/runs/cancel.html", context)
