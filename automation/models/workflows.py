"""Workflows, their published versions, and runs (the enrollment history)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.conf import settings as django_settings  # WorkflowVersion has a field `settings`
from django.db import models
from django.urls import reverse

from portal.models import Contact, Workspace


class Workflow(models.Model):
    """A trigger and its steps, as edited in the builder (the draft).

    Publishing snapshots the draft into an immutable `WorkflowVersion`; runs execute the
    version they started with, so editing never changes a run in flight.

    `definition` is JSON: {"trigger": {"type": key, "config": {...}}, "steps": [step, ...]}
    where a step is {"key", "type", "name", "config": {...}} and an if/else step also has
    "then": [steps] and "else": [steps]. Step keys are unique in the workflow and stable
    across renames (variables name them: {{ steps.<key>.id }}).
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="workflows")
    name = models.CharField(max_length=120)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    definition = models.JSONField(default=dict, blank=True)
    # Safety settings (minor units in `safety_currency`); blank means no limit.
    max_amount_per_charge = models.PositiveBigIntegerField(null=True, blank=True)
    max_amount_per_day = models.PositiveBigIntegerField(null=True, blank=True)
    safety_currency = models.CharField(max_length=3, default="usd")
    allow_reentry = models.BooleanField(
        default=True, help_text="A contact may enter this workflow again."
    )
    published_version = models.ForeignKey(
        "WorkflowVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["workspace", "status"])]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("workflow_builder", args=[self.workspace.slug, self.uuid])

    @property
    def trigger_type(self) -> str:
        return (self.definition.get("trigger") or {}).get("type", "")


class WorkflowVersion(models.Model):
    """An immutable snapshot of a workflow's definition and safety settings."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    definition = models.JSONField()
    settings = models.JSONField(default=dict)
    trigger_type = models.CharField(max_length=60, db_index=True)
    # Who published it (None: a command, or a member since deleted) and what it changed from
    # the version before, one line per change (automation.versions), as they saw it then.
    published_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    summary = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["workflow", "number"], name="version_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.workflow} v{self.number}"

    def get_absolute_url(self) -> str:
        """Its row in the workflow's version history."""
        workflow = self.workflow
        url = reverse("workflow_versions", args=[workflow.workspace.slug, workflow.uuid])
        return f"{url}#v{self.number}"


class Run(models.Model):
    """One trigger event going through one workflow version."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        RETRYING = "retrying", "Waiting to retry"
        WAITING = "waiting", "Waiting"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        STOPPED = "stopped", "Stopped by a filter"
        CANCELLED = "cancelled", "Cancelled"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="runs")
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="runs")
    version = models.ForeignKey(
        WorkflowVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="runs"
    )
    # A test run executes the draft, frozen here, instead of a version.
    test_definition = models.JSONField(null=True, blank=True)
    is_test = models.BooleanField(default=False)
    # Who started a test run: its e-mails go to them alone, never to the addresses configured.
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    trigger_type = models.CharField(max_length=60)
    trigger = models.JSONField(default=dict)
    # What caused the run, e.g. "form_submission:<uuid>": one run per cause and workflow.
    cause = models.CharField(max_length=255)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    error_code = models.CharField(max_length=40, blank=True)
    error_message = models.TextField(blank=True)
    # While RETRYING (a step's next attempt) or WAITING (a Wait step): when a worker takes the
    # run again. No worker and no lock is held meanwhile; a django-q2 ONCE schedule and the
    # every-minute sweep (services.runs) enqueue it once due.
    resume_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["workflow", "cause"], name="run_once_per_cause"),
        ]
        indexes = [
            models.Index(fields=["workflow", "status"]),
            models.Index(fields=["workflow", "created_at", "id"]),  # the history, newest first
            models.Index(fields=["status", "resume_at"]),  # the sweep of due runs
        ]

    def __str__(self) -> str:
        return f"Run {self.uuid} of {self.workflow}"

    def get_absolute_url(self) -> str:
        return reverse("run_detail", args=[self.workspace.slug, self.workflow.uuid, self.uuid])

    @property
    def definition(self) -> dict:
        return self.test_definition if self.is_test else self.version.definition


class StepRun(models.Model):
    """One step of a run: written before calling out, updated after."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        RETRYING = "retrying", "Waiting to retry"
        WAITING = "waiting", "Waiting"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        STOPPED = "stopped", "Stopped the run"
        SKIPPED = "skipped", "Skipped"
        CANCELLED = "cancelled", "Cancelled"

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="steps")
    step_key = models.CharField(max_length=80)
    step_type = models.CharField(max_length=60)
    name = models.CharField(max_length=120)
    position = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    inputs = models.JSONField(default=dict, blank=True)
    outputs = models.JSONField(default=dict, blank=True)
    error_code = models.CharField(max_length=40, blank=True)
    error_message = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # How many times "Retry from the failed step" followed a permanent failure (a decline, a
    # validation error): each is a new attempt at Stripe, so it has a key of its own.
    generation = models.PositiveIntegerField(default=0)
    # Whether the last failure's outcome at Stripe is unknown (429, 5xx, a timeout, a 409, a
    # crash): a retry must then send the same key, which gets Stripe's answer, not a new charge.
    error_retryable = models.BooleanField(default=False)
    # The automatic retries scheduled since the step last started afresh (the index into
    # WORKFLOW_RETRY_DELAYS), and when the first of them failed: "after 6 attempts over 7 h".
    auto_retries = models.PositiveIntegerField(default=0)
    retrying_since = models.DateTimeField(null=True, blank=True)
    idempotency_key = models.CharField(max_length=255, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "step_key"], name="steprun_once_per_step"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"

    @staticmethod
    def key_for(*, run_uuid, step_key: str, generation: int) -> str:
        """The idempotency key of a step's attempt: the first generation's is the one every
        step had before retries got keys of their own."""
        key = f"run:{run_uuid}:step:{step_key}"
        return f"{key}:retry:{generation}" if generation else key

    @property
    def duration(self):
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None
