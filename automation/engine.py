"""The workflow engine: executes one run, step by step, on a django-q2 worker.

Money rules:
- a run is claimed with a compare-and-swap, so two workers never execute it at once;
- a StepRun is written before anything is called, and a succeeded step is never executed
  again, whatever is retried or redelivered;
- every attempt of a step sends the same idempotency key, `run:<run uuid>:step:<step key>`,
  and the same resolved inputs, so Stripe executes a creating call once; only "Retry from
  the failed step" after a permanent failure (nothing moved: a decline, a validation error)
  starts a new generation with a key of its own, `...:retry:<n>` (services.runs).
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from automation import registry
from automation.actions.base import ActionContext, ActionError, StopRun
from automation.definition import branch_steps, steps_of
from automation.models import Run, StepRun
from automation.services.runs import contact_variables, stale_after
from automation.variables import ResolutionError, resolve

logger = logging.getLogger(__name__)


class StepFailed(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def _claim(run_pk: int) -> bool:
    now = timezone.now()
    claimable = Q(status__in=[Run.Status.QUEUED, Run.Status.RETRYING]) | Q(
        status=Run.Status.RUNNING, claimed_at__lt=now - stale_after()
    )
    return (
        Run.objects.filter(claimable, pk=run_pk).update(
            status=Run.Status.RUNNING, claimed_at=now, started_at=Coalesce("started_at", now)
        )
        == 1
    )


def run_execute(*, run_pk: int) -> None:
    """Execute a queued run (or resume one whose worker died). Safe to call twice."""
    if not _claim(run_pk):
        return
    run = Run.objects.select_related("workflow", "version", "contact", "workspace").get(pk=run_pk)
    context = {"contact": contact_variables(run.contact), "trigger": run.trigger, "steps": {}}
    status, code, message = Run.Status.SUCCEEDED, "", ""
    try:
        _walk(run, steps_of(run.definition), context, [0])
    except StopRun as stop:
        status, message = Run.Status.STOPPED, stop.message
    except StepFailed as failed:
        status, code, message = Run.Status.FAILED, failed.code, failed.message
    Run.objects.filter(pk=run.pk).update(
        status=status, error_code=code, error_message=message, finished_at=timezone.now()
    )


def _walk(run: Run, steps: list, context: dict, position: list[int]) -> None:
    for step in steps:
        position[0] += 1
        action = registry.action(step["type"])
        outputs = _execute_step(run, step, action, context, position[0])
        context["steps"][step["key"]] = outputs
        if action.kind == "branch":
            _walk(run, branch_steps(step, outputs.get("branch")), context, position)


def _settings(run: Run) -> dict:
    if run.is_test or run.version is None:
        workflow = run.workflow
        return {
            "max_amount_per_charge": workflow.max_amount_per_charge,
            "max_amount_per_day": workflow.max_amount_per_day,
            "safety_currency": workflow.safety_currency,
        }
    return run.version.settings


def _execute_step(run: Run, step: dict, action, context: dict, position: int) -> dict:
    key = step["key"]
    step_run, _ = StepRun.objects.get_or_create(
        run=run,
        step_key=key,
        defaults={
            "step_type": step["type"],
            "name": step.get("name") or action.label,
            "position": position,
            "idempotency_key": StepRun.key_for(run_uuid=run.uuid, step_key=key, generation=0),
        },
    )
    if step_run.status == StepRun.Status.SUCCEEDED:
        return step_run.outputs  # finished steps never run again
    try:
        inputs = resolve(step.get("config") or {}, context)
    except ResolutionError as error:
        _finish(step_run, StepRun.Status.FAILED, code="VALIDATION_ERROR", message=str(error))
        raise StepFailed("VALIDATION_ERROR", str(error)) from None  # nothing sent: permanent
    action_context = ActionContext(
        workspace=run.workspace,
        run=run,
        contact=run.contact,
        step_key=key,
        idempotency_key=step_run.idempotency_key,
        test_run=run.is_test,
        settings=_settings(run),
        config=step.get("config") or {},
    )
    delays = list(settings.WORKFLOW_RETRY_DELAYS)
    while True:
        step_run.attempts += 1
        step_run.status = StepRun.Status.RUNNING
        step_run.inputs = inputs
        step_run.started_at = step_run.started_at or timezone.now()
        step_run.save(update_fields=["attempts", "status", "inputs", "started_at"])
        try:
            outputs = action.execute(inputs, action_context)
        except StopRun as stop:
            _finish(step_run, StepRun.Status.STOPPED, message=stop.message)
            raise
        except ActionError as error:
            if error.retryable and delays:
                step_run.status = StepRun.Status.RETRYING
                step_run.error_code, step_run.error_message = error.code, error.message
                step_run.save(update_fields=["status", "error_code", "error_message"])
                _heartbeat(run)
                time.sleep(delays.pop(0))
                continue
            _finish(
                step_run, StepRun.Status.FAILED, code=error.code, message=error.message,
                retryable=error.retryable,
            )  # fmt: skip
            raise StepFailed(error.code, error.message) from None
        except Exception as error:  # a bug, not Stripe: fail the step, keep the worker alive
            logger.exception("step %s of run %s crashed", key, run.uuid)
            message = f"Unexpected error: {type(error).__name__}"
            # Stripe may have done the work before the crash: a retry keeps the key.
            _finish(
                step_run, StepRun.Status.FAILED, code="INTERNAL_ERROR", message=message,
                retryable=True,
            )  # fmt: skip
            raise StepFailed("INTERNAL_ERROR", message) from None
        _finish(step_run, StepRun.Status.SUCCEEDED, outputs=outputs)
        return outputs


def _heartbeat(run: Run) -> None:
    """Keep the claim fresh while waiting to retry, so no one takes the run as abandoned."""
    Run.objects.filter(pk=run.pk).update(claimed_at=timezone.now())


def _finish(
    step_run: StepRun, status: str, *, code="", message="", outputs=None, retryable=False
) -> None:
    step_run.status = status
    step_run.error_code, step_run.error_message = code, message
    step_run.error_retryable = retryable
    step_run.outputs = outputs if outputs is not None else {}  # also ends a daily-maximum hold
    step_run.finished_at = timezone.now()
    step_run.save(
        update_fields=[
            "status", "error_code", "error_message", "error_retryable", "outputs", "finished_at"
        ]
    )  # fmt: skip
