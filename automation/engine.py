"""The workflow engine: executes one run, step by step, on a django-q2 worker.

Money rules:
- a run is claimed with a compare-and-swap, so two workers never execute it at once;
- a StepRun is written before anything is called, and a succeeded step is never executed
  again, whatever is retried or redelivered;
- every attempt of a step sends the same idempotency key, `run:<run uuid>:step:<step key>`,
  and the same resolved inputs, so Stripe executes a creating call once; only "Retry from
  the failed step" after a permanent failure (nothing moved: a decline, a validation error)
  starts a new generation with a key of its own, `...:retry:<n>` (services.runs).

No worker waits: a retryable failure (429, 5xx, no answer) schedules the step's next attempt
after the next of WORKFLOW_RETRY_DELAYS and a Wait step sets the run aside until its time.
Either way the run is left RETRYING or WAITING with a `resume_at`, holding no claim and no
lock, and is executed again from the top once due (services.runs.run_suspend); finished
steps return their recorded outputs and the waiting step carries on with the same key and
inputs. A delay of 0 retries at once, in the same task.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from automation import registry
from automation.actions.base import ActionContext, ActionError, StopRun, WaitUntil
from automation.definition import branch_steps, steps_of
from automation.models import Run, StepRun
from automation.services.runs import (
    contact_variables,
    run_suspend,
    stale_after,
    steps_settle_cancelled,
)
from automation.variables import ResolutionError, resolve

logger = logging.getLogger(__name__)


class StepFailed(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


class Suspended(Exception):
    """The run goes aside until `at`, as `status` (RETRYING or WAITING)."""

    def __init__(self, status: str, at):
        super().__init__(status)
        self.status, self.at = status, at


class NotOurs(Exception):
    """The run was cancelled (or taken over as abandoned) while this worker executed it."""


def _claim(run_pk: int) -> bool:
    now = timezone.now()
    due = Q(resume_at__isnull=True) | Q(resume_at__lte=now)
    claimable = (
        Q(status=Run.Status.QUEUED)
        | (Q(status__in=[Run.Status.RETRYING, Run.Status.WAITING]) & due)
        | Q(status=Run.Status.RUNNING, claimed_at__lt=now - stale_after())
    )
    return (
        Run.objects.filter(claimable, pk=run_pk).update(
            status=Run.Status.RUNNING,
            claimed_at=now,
            resume_at=None,
            started_at=Coalesce("started_at", now),
        )  # fmt: skip
        == 1
    )


def run_execute(*, run_pk: int) -> None:
    """Execute a queued or due run (or resume one whose worker died). Safe to call twice, and
    early: a run not due yet is left alone."""
    if not _claim(run_pk):
        return
    run = Run.objects.select_related("workflow", "version", "contact", "workspace").get(pk=run_pk)
    _execute(run, here=False)


def run_execute_here(run: Run) -> None:
    """Execute a run just created in the caller's transaction whose steps all call nothing
    outside (`runs_start_for_trigger(execute_here=...)`): no task, claim or fetch of its own,
    and each step recorded in one write. Nobody else can see the run before the caller
    commits; if anything raises, the run goes with the caller's rollback and the caller's
    work (a Stripe event's processing) is done again as a whole."""
    now = timezone.now()
    run.status, run.claimed_at, run.started_at = Run.Status.RUNNING, now, now
    _execute(run, here=True)


def _execute(run: Run, *, here: bool) -> None:
    context = {"contact": contact_variables(run.contact), "trigger": run.trigger, "steps": {}}
    status, code, message = Run.Status.SUCCEEDED, "", ""
    try:
        _walk(run, steps_of(run.definition), context, [0], here)
    except Suspended as pause:  # (never here: a local step neither waits nor retries)
        run_suspend(run=run, status=pause.status, resume_at=pause.at)
        return
    except NotOurs:
        steps_settle_cancelled(run=run)
        return
    except StopRun as stop:
        status, message = Run.Status.STOPPED, stop.message
    except StepFailed as failed:
        status, code, message = Run.Status.FAILED, failed.code, failed.message
    # Only over our own claim: a run cancelled meanwhile stays cancelled.
    ours = Run.Status.QUEUED if here else Run.Status.RUNNING
    claim = {"claimed_at": run.claimed_at, "started_at": run.started_at} if here else {}
    Run.objects.filter(pk=run.pk, status=ours).update(
        status=status, error_code=code, error_message=message, finished_at=timezone.now(),
        **claim,
    )  # fmt: skip


def _walk(run: Run, steps: list, context: dict, position: list[int], here: bool) -> None:
    for step in steps:
        position[0] += 1
        action = registry.action(step["type"])
        outputs = _execute_step(run, step, action, context, position[0], here)
        context["steps"][step["key"]] = outputs
        if action.kind == "branch":
            _walk(run, branch_steps(step, outputs.get("branch")), context, position, here)


def _settings(run: Run) -> dict:
    if run.is_test or run.version is None:
        workflow = run.workflow
        return {
            "max_amount_per_charge": workflow.max_amount_per_charge,
            "max_amount_per_day": workflow.max_amount_per_day,
            "safety_currency": workflow.safety_currency,
        }
    return run.version.settings


def _action_context(run: Run, step: dict, *, idempotency_key: str, started_at) -> ActionContext:
    return ActionContext(
        workspace=run.workspace,
        run=run,
        contact=run.contact,
        step_key=step["key"],
        idempotency_key=idempotency_key,
        test_run=run.is_test,
        settings=_settings(run),
        config=step.get("config") or {},
        started_at=started_at,
    )


def _execute_step(
    run: Run, step: dict, action, context: dict, position: int, here: bool = False
) -> dict:
    key = step["key"]
    if not here:
        _hold_claim(run)
    if action.local:
        recorded = None if here else StepRun.objects.filter(run=run, step_key=key).first()
        if recorded is None:
            return _execute_local(run, step, action, context, position)
        if recorded.status == StepRun.Status.SUCCEEDED:
            return recorded.outputs
        # A failed local step retried from the run page: the general path below.
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
    if step_run.status == StepRun.Status.WAITING or (
        step_run.status == StepRun.Status.RETRYING and step_run.error_retryable
    ):
        # Stripe may have done it: the next attempt replays the same request for its key,
        # even if the contact changed during the hours of the backoff (and a wait keeps its
        # end).
        inputs = step_run.inputs
    else:
        try:
            inputs = resolve(step.get("config") or {}, context)
        except ResolutionError as error:
            _finish(step_run, StepRun.Status.FAILED, code="VALIDATION_ERROR", message=str(error))
            raise StepFailed("VALIDATION_ERROR", str(error)) from None  # nothing sent: permanent
    step_run.started_at = step_run.started_at or timezone.now()
    action_context = _action_context(
        run, step, idempotency_key=step_run.idempotency_key, started_at=step_run.started_at
    )
    delays = list(settings.WORKFLOW_RETRY_DELAYS)
    while True:
        attempt_at = timezone.now()
        if step_run.status != StepRun.Status.WAITING:  # a wait's end is not another attempt
            step_run.attempts += 1
        step_run.status = StepRun.Status.RUNNING
        step_run.inputs = inputs
        step_run.save(update_fields=["attempts", "status", "inputs", "started_at"])
        try:
            outputs = action.execute(inputs, action_context)
        except WaitUntil as wait:
            step_run.status = StepRun.Status.WAITING
            step_run.save(update_fields=["status"])
            raise Suspended(Run.Status.WAITING, wait.at) from None
        except StopRun as stop:
            _finish(step_run, StepRun.Status.STOPPED, message=stop.message)
            raise
        except ActionError as error:
            if error.retryable and step_run.auto_retries < len(delays):
                delay = delays[step_run.auto_retries]
                step_run.auto_retries += 1
                step_run.retrying_since = step_run.retrying_since or attempt_at
                step_run.status = StepRun.Status.RETRYING
                step_run.error_code, step_run.error_message = error.code, error.message
                step_run.error_retryable = True  # the next attempt keeps the key and inputs
                step_run.save(update_fields=[
                    "status", "error_code", "error_message", "error_retryable", "auto_retries",
                    "retrying_since",
                ])  # fmt: skip
                if delay <= 0:
                    _hold_claim(run)
                    continue
                resume_at = timezone.now() + timedelta(seconds=delay)
                raise Suspended(Run.Status.RETRYING, resume_at) from None
            message = error.message
            if error.retryable:
                message = _gave_up(action, error, step_run, since=attempt_at)
            _finish(
                step_run, StepRun.Status.FAILED, code=error.code, message=error.message,
                retryable=error.retryable,
            )  # fmt: skip
            raise StepFailed(error.code, message) from None
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


def _execute_local(run: Run, step: dict, action, context: dict, position: int) -> dict:
    """A step that calls nothing outside (`action.local`): executed first, then recorded with
    its outcome in one write. Nothing outside can have seen it, so a worker dying before the
    write leaves nothing to replay: the step is simply executed again. Its failures are
    permanent (there is no service to wait for)."""
    key, now = step["key"], timezone.now()
    row = StepRun(
        run=run, step_key=key, step_type=step["type"], name=step.get("name") or action.label,
        position=position, attempts=1, started_at=now,
        idempotency_key=StepRun.key_for(run_uuid=run.uuid, step_key=key, generation=0),
    )  # fmt: skip
    try:
        row.inputs = resolve(step.get("config") or {}, context)
        outputs = action.execute(
            row.inputs,
            _action_context(run, step, idempotency_key=row.idempotency_key, started_at=now),
        )  # fmt: skip
    except ResolutionError as error:
        _record(row, StepRun.Status.FAILED, code="VALIDATION_ERROR", message=str(error))
        raise StepFailed("VALIDATION_ERROR", str(error)) from None
    except StopRun as stop:
        _record(row, StepRun.Status.STOPPED, message=stop.message)
        raise
    except ActionError as error:
        _record(row, StepRun.Status.FAILED, code=error.code, message=error.message)
        raise StepFailed(error.code, error.message) from None
    except Exception as error:  # a bug: fail the step, keep the worker alive
        logger.exception("step %s of run %s crashed", key, run.uuid)
        message = f"Unexpected error: {type(error).__name__}"
        _record(row, StepRun.Status.FAILED, code="INTERNAL_ERROR", message=message)
        raise StepFailed("INTERNAL_ERROR", message) from None
    _record(row, StepRun.Status.SUCCEEDED, outputs=outputs)
    return outputs


def _record(row: StepRun, status: str, *, code="", message="", outputs=None) -> None:
    row.status, row.error_code, row.error_message = status, code, message
    row.outputs = outputs if outputs is not None else {}
    row.finished_at = timezone.now()
    row.save(force_insert=True)


def _hold_claim(run: Run) -> None:
    """Before every attempt: the run is still ours (not cancelled), and the claim fresh."""
    if not Run.objects.filter(pk=run.pk, status=Run.Status.RUNNING).update(
        claimed_at=timezone.now()
    ):
        raise NotOurs


_ANSWERS = {
    "RATE_LIMITED": "kept answering 429 (too many requests)",
    "PROVIDER_ERROR": "kept failing (a server error or no answer)",
    "CONFLICT": "kept answering that the same request was still in progress",
}


def _gave_up(action, error: ActionError, step_run: StepRun, *, since) -> str:
    """Why a retryable failure is final, for the run's error: "Stripe kept answering 429 …
    after 6 attempts over 7 h 12 min; use Retry"."""
    who = "Stripe" if action.uses_stripe else "The service"
    answer = _ANSWERS.get(error.code, f"kept failing ({error.message.rstrip('.')})")
    tries = step_run.auto_retries + 1
    span = timezone.now() - (step_run.retrying_since or since)
    return (
        f"{who} {answer} after {tries} attempt{'s' if tries != 1 else ''} over {duration(span)}"
        f"; use “Retry from the failed step” to try again. Last answer: {error.message}"
    )


def duration(span: timedelta) -> str:
    """A span in words: "45 s", "12 min", "7 h 12 min", "2 d 3 h"."""
    seconds = max(int(span.total_seconds()), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min" if minutes else f"{seconds} s"


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
