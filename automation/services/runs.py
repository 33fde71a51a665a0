"""Starting runs when triggers fire, setting them aside until a time, retrying, cancelling."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import Schedule
from django_q.tasks import async_task

from automation import registry
from automation.definition import steps_walk
from automation.models import Run, StepRun, Workflow, WorkflowVersion
from portal.models import Workspace

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


def definition_is_local(definition: dict) -> bool:
    """Whether every step of the definition calls nothing outside the portal's database."""
    return all(registry.action(placed.step["type"]).local for placed in steps_walk(definition))


# Per process: workspace id -> (its `workflows_changed`, its published versions); and how many
# changes this process has seen, so a list read while one happened is not kept.
_published_cache: dict[int, tuple[int, list[WorkflowVersion]]] = {}
_changes_seen = [0]


def _published(workspace) -> list[WorkflowVersion]:
    """The published version of each of the workspace's published workflows, kept in memory
    while the workspace's `workflows_changed` (bumped in the transaction of every change)
    stays the same: an event costs no query for them. A copy of the list each time."""
    stamp = workspace.workflows_changed
    cached = _published_cache.get(workspace.pk)
    if cached is not None and cached[0] == stamp:
        return list(cached[1])
    seen = _changes_seen[0]
    versions = list(
        WorkflowVersion.objects.filter(
            workflow__workspace=workspace,
            workflow__status=Workflow.Status.PUBLISHED,
            workflow__published_version=F("pk"),
        ).select_related("workflow").order_by("pk")
    )  # fmt: skip
    if _changes_seen[0] == seen:  # no change in this process while reading: keep it
        _published_cache[workspace.pk] = (stamp, versions)
    return list(versions)


def _forget(workspace_id: int) -> None:
    _changes_seen[0] += 1
    _published_cache.pop(workspace_id, None)


def workflows_changed(*, workspace_id: int) -> None:
    """Count a change of a workspace's workflows (a save or delete of a workflow or of a
    version), in the caller's transaction: every process reads its trigger list again (this
    one at once and after the commit, whatever its copy of the workspace row says)."""
    _forget(workspace_id)
    transaction.on_commit(lambda: _forget(workspace_id))
    Workspace.objects.filter(pk=workspace_id).update(workflows_changed=F("workflows_changed") + 1)


def runs_start_for_trigger(
    *, workspace, trigger_type: str, trigger: dict, cause: str, contact=None, only_workflow=None,
    execute_here: Callable[[Run], None] | None = None,
) -> list[Run]:  # fmt: skip
    """Start a run of every published workflow whose trigger matches.

    Call it inside the transaction that recorded what happened (the submission, the
    booking, the Stripe event): the runs exist exactly when it does, and are enqueued on
    commit. `cause` identifies the event; a workflow gets one run per cause, however often
    this is called with it. With `execute_here` (the engine's `run_execute_here`, from a
    worker), a run whose steps all call nothing outside is executed at once, in this
    transaction, instead of being enqueued.
    """
    trigger_class = registry.trigger(trigger_type)
    versions = [v for v in _published(workspace) if v.trigger_type == trigger_type]
    if only_workflow is not None:
        versions = [v for v in versions if v.workflow_id == only_workflow.pk]
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
        here = execute_here is not None and definition_is_local(version.definition)
        run = _create_run(workspace=workspace, version=version, trigger_type=trigger_type,
                          trigger=trigger, cause=cause, contact=contact,
                          enqueue=not here)  # fmt: skip
        if run is None:
            continue
        if here:
            execute_here(run)
        started.append(run)
    return started


def _create_run(
    *, workspace, version, trigger_type, trigger, cause, contact, enqueue=True
) -> Run | None:
    try:
        with transaction.atomic():
            run = Run.objects.create(
                workspace=workspace,
                workflow=version.workflow,
                version=version,
                contact=contact,
                trigger_type=trigger_type,
                trigger=trigger,
                cause=cause,
            )
    except IntegrityError:  # this cause already started a run of this workflow
        return None
    if enqueue:
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
            step.auto_retries, step.retrying_since = 0, None  # a fresh round of backoff
            step.save(update_fields=["status", "generation", "idempotency_key", "auto_retries",
                                     "retrying_since"])  # fmt: skip
        locked.status = Run.Status.QUEUED
        locked.error_code = locked.error_message = ""
        locked.finished_at = None
        locked.save(update_fields=["status", "error_code", "error_message", "finished_at"])
        run_enqueue(locked)
    return locked


# A queued run nobody claimed for this long lost its task (a Redis broker keeps no copy).
LOST_AFTER = timedelta(minutes=2)
ASIDE = (Run.Status.RETRYING, Run.Status.WAITING)  # waiting for `resume_at`, held by no one
CANCELLABLE = (Run.Status.QUEUED, Run.Status.RUNNING, *ASIDE)


def runs_resume_stale() -> int:
    """Enqueue again the runs whose worker died or whose task was lost, and the runs set aside
    whose time has come (should their wake-up schedule have been lost); returns how many.

    Scheduled every minute. Safe at any time: a run is executed by whoever claims it, and a
    claim only succeeds on a run nobody is executing and whose `resume_at` has passed.
    """
    now = timezone.now()
    stale = Run.objects.filter(
        Q(status=Run.Status.RUNNING, claimed_at__lt=now - stale_after())
        | Q(status=Run.Status.QUEUED, claimed_at__isnull=True, created_at__lt=now - LOST_AFTER)
        | Q(status=Run.Status.QUEUED, claimed_at__lt=now - LOST_AFTER)
        | Q(status__in=ASIDE, resume_at__lte=now)
        | Q(status__in=ASIDE, resume_at__isnull=True)
    )
    count = 0
    for run in stale.only("pk"):
        logger.warning("resuming run %s", run.pk)
        run_enqueue(run)
        count += 1
    return count


def _wake_name(run: Run) -> str:
    return f"Resume workflow run {run.uuid}"


def run_suspend(*, run: Run, status: str, resume_at) -> bool:
    """Set a run this worker holds aside until `resume_at` (RETRYING or WAITING), releasing
    its claim, and make sure a worker takes it up then: a django-q2 ONCE schedule (durable,
    in the database; the cluster looks every 30 s), with `runs_resume_stale` behind it.
    False when the run is no longer ours (cancelled meanwhile): its waiting step is settled."""
    with transaction.atomic():
        moved = Run.objects.filter(pk=run.pk, status=Run.Status.RUNNING).update(
            status=status, resume_at=resume_at, claimed_at=None
        )
        if moved:
            Schedule.objects.filter(name=_wake_name(run)).delete()
            Schedule.objects.create(
                name=_wake_name(run), func="automation.tasks.execute_run", args=repr(run.pk),
                schedule_type=Schedule.ONCE, repeats=-1, next_run=resume_at,
                cluster=Conf.CLUSTER_NAME,
            )  # fmt: skip
    if not moved:
        steps_settle_cancelled(run=run)
    return bool(moved)


def steps_settle_cancelled(*, run: Run) -> None:
    """A cancelled run's steps still waiting (for a retry, a time) end as cancelled, which also
    ends a charging step's hold on the daily maximum."""
    StepRun.objects.filter(
        run=run, run__status=Run.Status.CANCELLED,
        status__in=[StepRun.Status.RETRYING, StepRun.Status.WAITING],
    ).update(status=StepRun.Status.CANCELLED, finished_at=timezone.now())  # fmt: skip


def run_resume_now(*, run: Run) -> bool:
    """ "Retry now": a run waiting to retry is due at once and enqueued. Pressing it twice, or
    after a worker took the run, changes nothing (False): the claim decides who executes."""
    with transaction.atomic():
        moved = Run.objects.filter(pk=run.pk, status=Run.Status.RETRYING).update(
            resume_at=timezone.now()
        )
        if moved:
            run_enqueue(run)
    return bool(moved)


def run_cancel(*, run: Run, by: str = "") -> bool:
    """Cancel a run that has not finished: it never executes another step (a step already
    at Stripe finishes; the engine stops before the next). False if it had finished."""
    now = timezone.now()
    with transaction.atomic():
        moved = Run.objects.filter(pk=run.pk, status__in=CANCELLABLE).update(
            status=Run.Status.CANCELLED, resume_at=None, claimed_at=None, finished_at=now,
            error_code="", error_message=f"Cancelled{f' by {by}' if by else ''}.",
        )  # fmt: skip
        if moved:
            steps_settle_cancelled(run=run)
            Schedule.objects.filter(name=_wake_name(run)).delete()
    return bool(moved)


def runs_set_aside(workflow: Workflow):
    """The workflow's runs waiting for a time (a Wait step or a retry's backoff)."""
    return workflow.runs.filter(status__in=ASIDE)


def runs_cancel_waiting(*, workflow: Workflow, by: str = "") -> int:
    """Cancel every run of the workflow that waits for a time; returns how many."""
    return sum(run_cancel(run=run, by=by) for run in runs_set_aside(workflow).only("pk", "uuid"))
