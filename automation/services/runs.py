"""Starting runs when triggers fire, and retrying them."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django_q.tasks import async_task

from automation import registry
from automation.models import Run, StepRun, Workflow, WorkflowVersion

logger = logging.getLogger(__name__)


def stale_after() -> timedelta:
    """A claim older than the longest a task may run belongs to a worker that died.

    django-q2 kills a task at `timeout`; the ORM broker hands an unacknowledged task out
    again after `retry` (> timeout + 5, see portal.checks), by which time the claim is stale.
    The engine claims runs past it; `runs_resume_stale` enqueues them again.
    """
    return timedelta(seconds=settings.Q_CLUSTER["timeout"] + 5)


def contact_variables(contact) -> dict:
    """What `{{ contact.* }}` resolves to."""
    if contact is None:
        return {}
    return {
        "id": str(contact.uuid),
        "name": contact.name,
        "email": contact.email,
        "phone": contact.phone,
        "stripe_customer_id": contact.stripe_customer_id,
        "custom": dict(contact.custom_fields or {}),
    }


def run_enqueue(run: Run) -> None:
    """Hand the run to a worker once the transaction that made it commits."""
    run_id = run.pk
    transaction.on_commit(lambda: async_task("automation.tasks.execute_run", run_id, group="runs"))


def runs_start_for_trigger(
    *, workspace, trigger_type: str, trigger: dict, cause: str, contact=None, only_workflow=None
) -> list[Run]:
    """Start a run of every published workflow whose trigger matches.

    Call it inside the transaction that recorded what happened (the submission, the
    booking, the Stripe event): the runs exist exactly when it does, and are enqueued on
    commit. `cause` identifies the event; a workflow gets one run per cause, however often
    this is called with it.
    """
    trigger_class = registry.trigger(trigger_type)
    versions = WorkflowVersion.objects.filter(
        workflow__workspace=workspace,
        workflow__status=Workflow.Status.PUBLISHED,
        workflow__published_version=F("pk"),
        trigger_type=trigger_type,
    ).select_related("workflow")
    if only_workflow is not None:
        versions = versions.filter(workflow=only_workflow)
    started = []
    for version in versions:
        config = (version.definition.get("trigger") or {}).get("config") or {}
        if not trigger_class.matches(config, trigger):
            continue
        if (
            contact is not None
            and not version.settings.get("allow_reentry", True)
            and Run.objects.filter(
                workflow=version.workflow, contact=contact, is_test=False
            ).exists()
        ):
            continue
        run = _create_run(version=version, trigger_type=trigger_type, trigger=trigger,
                          cause=cause, contact=contact)  # fmt: skip
        if run is not None:
            started.append(run)
    return started


def _create_run(*, version, trigger_type, trigger, cause, contact) -> Run | None:
    try:
        with transaction.atomic():
            run = Run.objects.create(
                workspace=version.workflow.workspace,
                workflow=version.workflow,
                version=version,
                contact=contact,
                trigger_type=trigger_type,
                trigger=trigger,
                cause=cause,
            )
    except IntegrityError:  # this cause already started a run of this workflow
        return None
    run_enqueue(run)
    return run


def run_retry_from_failed(*, run: Run) -> Run:
    """Start a failed run again at its failed step; finished steps never run again.

    A step whose outcome at Stripe is unknown (429, 5xx, no answer) keeps its idempotency
    key, so Stripe answers with what it did. A step that failed for good (a decline, a
    validation error: nothing moved) starts a new generation with a new key: its inputs may
    differ now (a new card, a corrected amount), and the old key would only replay the decline
    or be refused as reused with other parameters. Its ledger row is then a new Payment.
    """
    with transaction.atomic():
        locked = Run.objects.select_for_update().get(pk=run.pk)
        if locked.status != Run.Status.FAILED:
            raise ValueError("Only a failed run can be retried.")
        for step in locked.steps.filter(status=StepRun.Status.FAILED):
            if not step.error_retryable:
                step.generation += 1
                step.idempotency_key = StepRun.key_for(
                    run_uuid=locked.uuid, step_key=step.step_key, generation=step.generation
                )
            step.status = StepRun.Status.RETRYING
            step.save(update_fields=["status", "generation", "idempotency_key"])
        locked.status = Run.Status.QUEUED
        locked.error_code = locked.error_message = ""
        locked.finished_at = None
        locked.save(update_fields=["status", "error_code", "error_message", "finished_at"])
        run_enqueue(locked)
    return locked


# A queued run nobody claimed for this long lost its task (a Redis broker keeps no copy).
LOST_AFTER = timedelta(minutes=2)


def runs_resume_stale() -> int:
    """Enqueue again the runs whose worker died or whose task was lost; returns how many.

    Scheduled every minute. Safe at any time: a run is executed by whoever claims it, and a
    claim only succeeds on a run nobody is executing.
    """
    now = timezone.now()
    stale = Run.objects.filter(
        Q(status=Run.Status.RUNNING, claimed_at__lt=now - stale_after())
        | Q(status__in=[Run.Status.QUEUED, Run.Status.RETRYING], claimed_at__isnull=True,
            created_at__lt=now - LOST_AFTER)
        | Q(status=Run.Status.QUEUED, claimed_at__lt=now - LOST_AFTER)
    )  # fmt: skip
    count = 0
    for run in stale.only("pk"):
        logger.warning("resuming run %s", run.pk)
        run_enqueue(run)
        count += 1
    return count
