"""Enrollment history: a workflow's runs (with their event, contact and the amount charged,
filtered by status, trigger, period and contact), one run's step timeline (inputs and outputs
as tables, amounts in their currency), retrying a failed run, retrying a run now instead of at
its next attempt, cancelling a run."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict

from django.contrib import messages
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from automation import registry
from automation.definition import branches_of, steps_of, steps_walk
from automation.models import Run, StepRun, Workflow
from automation.selectors import run_event_types
from automation.services.runs import (
    CANCELLABLE,
    run_cancel,
    run_resume_now,
    run_retry_from_failed,
)
from automation.views.versions import publish_state
from automation.workflow_forms import RunFilterForm
from portal import perms
from portal.access import PortalRequest, workspace_view
from portal.money import KNOWN_CURRENCIES, format_amount, format_totals
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
    """The workflow's header, with its unpublished changes (not needed by an htmx partial)."""
    if request.htmx:
        can_publish = perms.WORKFLOW_PUBLISH in request.workspace_perms
        return {"workflow": workflow, "can_publish": can_publish, "tab": "runs"}
    return {"workflow": workflow, "tab": "runs", **publish_state(request, workflow)}


def _json(value) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=str)


# --- what a run shows: its event, the amounts it charged, its values as tables ---------------

# `amount`, `amount_paid`, `amount_refunded` ... (not `amount_in_minor_units`, a yes/no).
AMOUNT_KEY = re.compile(r"^amount(_[a-z_]+)?$")


def event_type(run: Run) -> str:
    """The event that started the run: a Stripe event as Stripe names it ("charge.succeeded"),
    else the trigger's key ("form_submitted")."""
    trigger = run.trigger if isinstance(run.trigger, dict) else {}
    return str(trigger.get("type") or run.trigger_type)


def event_label(event: str) -> str:
    """An event type as people read it: the portal's own by its label ("Form submitted"), a
    Stripe event as Stripe names it."""
    return registry.TRIGGERS[event][0] if event in registry.TRIGGERS else event


def _currency(value) -> str:
    code = value.upper() if isinstance(value, str) else ""
    return code if code in KNOWN_CURRENCIES else ""


def _minor_units(name, value, siblings: dict) -> int | None:
    """`value` as minor units if it is an amount in them: an integer under an amount key, or
    digits that the step says are minor units; None otherwise (an amount typed as "49.99")."""
    if not (isinstance(name, str) and AMOUNT_KEY.match(name)) or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit() and siblings.get("amount_in_minor_units") is True:
        return int(value)
    return None


def _text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def value_rows(data, currency: str = "") -> list[dict]:
    """A step's inputs or outputs (or a trigger's data) as the rows of a table: nested objects
    and lists flattened to dotted keys ("customer.address.city", "lines.0.amount"); an amount
    in minor units is also given in its currency (the `currency` beside it, else the nearest
    one above it, else `currency`: the step's configured one) as `money`, "75.00 USD"."""
    rows: list[dict] = []
    if data not in (None, {}, [], ""):
        _flatten(data, "", _currency(currency), rows)
    return rows


def _flatten(value, path: str, currency: str, rows: list[dict]) -> None:
    if isinstance(value, dict) and value:
        here = _currency(value.get("currency")) or currency
        items = [(str(name), inner, value) for name, inner in value.items()]
    elif isinstance(value, list) and value:
        here, items = currency, [(str(i), inner, {}) for i, inner in enumerate(value)]
    else:
        rows.append({"key": path or "value", "value": _text(value), "money": ""})
        return
    for name, inner, siblings in items:
        key = f"{path}.{name}" if path else name
        if isinstance(inner, dict | list) and inner:
            _flatten(inner, key, here, rows)
            continue
        minor = _minor_units(name, inner, siblings)
        money = format_amount(minor, here) if minor is not None and here else ""
        rows.append({"key": key, "value": _text(inner), "money": money})


def _is_charge(step: StepRun) -> bool:
    """A step that took money: it succeeded with a PaymentIntent that succeeded (a test run's
    "not sent" charge and an intent awaiting the customer took none)."""
    out = step.outputs if isinstance(step.outputs, dict) else {}
    return (
        step.status == StepRun.Status.SUCCEEDED
        and out.get("status") == "succeeded"
        and str(out.get("id", "")).startswith("pi_")
    )


def _total(outputs: list[dict]) -> str:
    """The amounts of these charges' outputs, by currency: "$75.00", "EUR 5.00 + USD 75.00"
    for several ("" for none)."""
    totals: Counter[str] = Counter()
    for out in outputs:
        minor, code = _minor_units("amount", out.get("amount"), out), _currency(out.get("currency"))
        if minor is not None and code:
            totals[code] += minor
    return format_totals(totals)


def _charged_by_run(runs: list[Run]) -> dict[int, str]:
    """What each run charged, in one query for the page."""
    steps = StepRun.objects.filter(
        run__in=[run.pk for run in runs],
        status=StepRun.Status.SUCCEEDED,
        outputs__status="succeeded",
        outputs__id__startswith="pi_",
    ).values_list("run_id", "outputs")
    outputs = defaultdict(list)
    for run_id, out in steps:
        outputs[run_id].append(out)
    return {run_id: _total(outs) for run_id, outs in outputs.items()}


# The empty list under a status filter: "No failed runs in this period."
_NONE_WITH_STATUS = {
    Run.Status.QUEUED: "queued runs",
    Run.Status.RUNNING: "runs running",
    Run.Status.RETRYING: "runs waiting to retry",
    Run.Status.WAITING: "waiting runs",
    Run.Status.SUCCEEDED: "succeeded runs",
    Run.Status.FAILED: "failed runs",
    Run.Status.STOPPED: "runs stopped by a filter",
    Run.Status.CANCELLED: "cancelled runs",
}


def _none_found(data: dict) -> str:
    """What an empty filtered list says, naming the filters ("" when none is set)."""
    if not any(str(value or "").strip() for value in data.values()):
        return ""
    text = "No " + _NONE_WITH_STATUS.get(data.get("status"), "runs")
    if data.get("trigger"):
        text += f" started by “{event_label(data['trigger'])}”"
    if (data.get("contact") or "").strip():
        text += f" for contacts matching “{data['contact'].strip()}”"
    if data.get("since") or data.get("until"):
        text += " in this period"
    return text + "."


def _triggers(workflow: Workflow) -> list[tuple[str, str]]:
    """The (event type, label) pairs the workflow's runs were started by, for the filter."""
    events = run_event_types(workflow)
    return sorted(((event, event_label(event)) for event in events), key=lambda p: p[1].lower())


def _filtered(runs, data: dict):
    if data["status"]:
        runs = runs.filter(status=data["status"])
    if data["trigger"]:
        event = data["trigger"]  # a run whose data names no type goes by its trigger's key
        without = Q(trigger__type__isnull=True, trigger_type=event)
        runs = runs.filter(Q(trigger__type=event) | without)
    if data["since"]:  # days in the viewer's zone (the current time zone)
        runs = runs.filter(created_at__date__gte=data["since"])
    if data["until"]:
        runs = runs.filter(created_at__date__lte=data["until"])
    if data["contact"].strip():
        text = data["contact"].strip()
        runs = runs.filter(Q(contact__name__icontains=text) | Q(contact__email__icontains=text))
    return runs


@workspace_view(perms.WORKFLOW_EDIT)
@require_GET
@vary_on_headers("HX-Request", "HX-Target")
def run_list(request: PortalRequest, workflow_uuid):
    """The workflow's runs, newest first: when, the event that started each, its contact,
    status, the amount it charged, its version; filtered by the GET parameters."""
    workflow = _workflow(request, workflow_uuid)
    filters = RunFilterForm(request.GET, triggers=_triggers(workflow))
    runs = workflow.runs.select_related("contact", "version", "workspace")  # for its URL
    if filters.is_valid():
        runs = _filtered(runs, filters.cleaned_data)
    else:
        runs = runs.none()  # the errors are shown; a half-applied filter would mislead
    page = paginate(request, runs)
    charged = _charged_by_run(page.object_list)
    for run in page.object_list:
        run.event_label, run.charged = event_label(event_type(run)), charged.get(run.pk, "")
    query = request.GET.copy()
    for key in [key for key, value in query.items() if key == "page" or not value.strip()]:
        query.pop(key)  # the filters set, kept by the pages' links
    none_found = _none_found(filters.cleaned_data) if filters.is_valid() else ""
    context = {**_header(request, workflow), "filters": filters, "page": page,
               "filter_query": query.urlencode(), "none_found": none_found}  # fmt: skip
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
    steps = [_step(step, configured) for step, configured in _steps_with_config(run)]
    live = run.status in LIVE
    started = {item["row"].step_key: item["row"] for item in steps}
    event = event_type(run)
    context = {**_header(request, workflow), "run": run, "steps": steps, "live": live,
               "to_come": _to_come(run, started) if live else [],
               "cancellable": run.status in CANCELLABLE,
               # A run set aside for hours need not be asked about every second.
               "poll": "10s" if run.status in (Run.Status.RETRYING, Run.Status.WAITING) else "1s",
               "event": event, "event_label": event_label(event),
               "trigger_label": registry.TRIGGERS.get(run.trigger_type, (run.trigger_type,))[0],
               "charged": _total([i["row"].outputs for i in steps if _is_charge(i["row"])]),
               "trigger_rows": value_rows(run.trigger),
               "trigger_json": _json(run.trigger)}  # fmt: skip
    template = "automation/runs/detail.html" + ("#live" if request.htmx else "")
    return render(request, template, context)


def _steps_with_config(run: Run):
    """The run's steps, each with its settings in the definition the run ran."""
    configs = {placed.step.get("key"): placed.step.get("config") or {}
               for placed in steps_walk(run.definition)}  # fmt: skip
    return [(step, configs.get(step.step_key, {})) for step in run.steps.all()]


def _step(step: StepRun, config: dict) -> dict:
    currency = config.get("currency") if isinstance(config, dict) else ""
    return {"row": step, "stripe_ids": stripe_ids(step.outputs), "retry": retry_note(step),
            "input_rows": value_rows(step.inputs, currency or ""),
            "output_rows": value_rows(step.outputs, currency or ""),
            "inputs": _json(step.inputs), "outputs": _json(step.outputs)}  # fmt: skip


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
