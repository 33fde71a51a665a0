"""The payments ledger, payment links and refunds.

Every attempt to take money, from any source, is one `Payment` row created before Stripe is
called; its `idempotency_key` is what Stripe sees, so a retried or repeated attempt never
charges twice. Webhooks and return pages bring the row in step with Stripe.
"""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from automation.models import Appointment
from integrations.models import StripeConnection
from portal.models import Contact, Workspace


class Payment(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        REQUIRES_ACTION = "requires_action", "Needs the customer"
        PROCESSING = "processing", "Processing"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELED = "canceled", "Canceled"

    class Source(models.TextChoices):
        WORKFLOW = "workflow", "Workflow"
        CARD_ON_FILE = "card_on_file", "Card on file"
        NEW_CARD = "new_card", "New card"
        PAYMENT_LINK = "payment_link", "Payment link"
        INVOICE = "invoice", "Invoice"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="payments")
    connection = models.ForeignKey(
        StripeConnection, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="payments"
    )
    source = models.CharField(max_length=20, choices=Source.choices)
    # Who or what started it: a user, or e.g. "run:<uuid>:step:<key>".
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    origin = models.CharField(max_length=255, blank=True)
    # Sent to Stripe with the creating call; unique, so an attempt is one row whatever repeats.
    idempotency_key = models.CharField(max_length=255, unique=True)
    amount = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    amount_refunded = models.PositiveBigIntegerField(default=0)
    description = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    stripe_payment_intent_id = models.CharField(max_length=255, blank=True, db_index=True)
    stripe_charge_id = models.CharField(max_length=255, blank=True)
    stripe_customer_id = models.CharField(max_length=255, blank=True)
    payment_method_id = models.CharField(max_length=255, blank=True)
    failure_code = models.CharField(max_length=100, blank=True)
    failure_message = models.TextField(blank=True)
    appointments = models.ManyToManyField(Appointment, blank=True, related_name="payments")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # The payments chart is cached under the newest of these (billing.selectors.daily_chart):
    # a change to an amount, a status or a time goes through save(), or sets it too.
    updated_at = models.DateTimeField(auto_now=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        # The ledger lists a workspace's payments newest first, the chart reads by status and
        # counts the payments per currency with their last change.
        indexes = [
            models.Index(fields=["workspace", "status", "created_at"]),
            models.Index(fields=["workspace", "created_at", "id"]),
            models.Index(fields=["workspace", "currency", "updated_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("payment_detail", args=[self.workspace.slug, self.uuid])

    @property
    def refundable(self) -> int:
        """What can still be refunded, in minor units."""
        if self.status != self.Status.SUCCEEDED:
            return 0
        return self.amount - self.amount_refunded

    @property
    def refund_state(self) -> str:
        if not self.amount_refunded:
            return ""
        return "refunded" if self.amount_refunded >= self.amount else "partially refunded"


class PaymentEvent(models.Model):
    """A line of a payment's timeline (created, confirmed by the return page, webhook, ...)."""

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=40)
    message = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


class IntentMismatch(models.Model):
    """A PaymentIntent that named a ledger row without matching it (another Stripe account,
    amount, currency or customer, or the row has another intent): applied to nothing, kept
    for the owners (Payments -> Reconciliation). Append-only; one per row and intent, so the
    owners are told once however often Stripe or reconciliation repeat it."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="intent_mismatches"
    )
    connection = models.ForeignKey(
        StripeConnection, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="mismatches")
    payment_intent = models.CharField(max_length=255)
    # The intent's own terms, as Stripe gave them.
    amount = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    customer = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=40, blank=True)
    reasons = models.CharField(max_length=500)
    via = models.CharField(max_length=40, help_text="webhook, reconciliation, api, ...")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["payment", "payment_intent"], name="intent_mismatch_once_per_intent"
            ),
        ]
        indexes = [models.Index(fields=["workspace", "created_at"])]

    def __str__(self) -> str:
        return f"{self.payment_intent} does not match {self.payment_id}: {self.reasons}"


def _token() -> str:
    return secrets.token_urlsafe(32)


class PaymentLink(models.Model):
    """A link e-mailed to a customer: `/pay/<token>/`, single use once paid."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        PAID = "paid", "Paid"
        CANCELLED = "cancelled", "Cancelled"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    token = models.CharField(max_length=64, unique=True, default=_token, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="payment_links")
    connection = models.ForeignKey(
        StripeConnection, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="payment_links")
    amount = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    description = models.CharField(max_length=500)
    appointments = models.ManyToManyField(Appointment, blank=True, related_name="payment_links")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    expires_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    origin = models.CharField(max_length=255, blank=True, help_text="e.g. a workflow step")
    # The staff form's token: the form posted again is the same link (unique per workspace).
    attempt = models.UUIDField(null=True, blank=True, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_count = models.PositiveIntegerField(default=0)
    paid_at = models.DateTimeField(null=True, blank=True)
    payment = models.OneToOneField(
        Payment, null=True, blank=True, on_delete=models.SET_NULL, related_name="link"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["workspace", "created_at", "id"])]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "attempt"], name="payment_link_one_per_attempt"
            ),
        ]

    def __str__(self) -> str:
        return f"Payment link {self.uuid} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("public_pay", args=[self.token])

    @property
    def is_expired(self) -> bool:
        return self.status == self.Status.OPEN and timezone.now() >= self.expires_at

    @property
    def payable(self) -> bool:
        return self.status == self.Status.OPEN and not self.is_expired


class Refund(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="refunds")
    amount = models.PositiveBigIntegerField()
    reason = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    stripe_refund_id = models.CharField(max_length=255, blank=True)
    failure_message = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Refund {self.amount} of {self.payment_id} ({self.status})"


class ReconciliationRun(models.Model):
    """One pass of the reconciliation job over one connection: what it checked, what it
    repaired in the ledger, and the differences it could not settle (for the owner)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="reconciliation_runs"
    )
    connection = models.ForeignKey(
        StripeConnection, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Who asked: "schedule", "command", or the user who pressed "Run now".
    origin = models.CharField(max_length=255, blank=True)
    since = models.DateTimeField(help_text="PaymentIntents created from this time were compared")
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    events_taken_in = models.PositiveIntegerField(default=0)
    intents_checked = models.PositiveIntegerField(default=0)
    payments_updated = models.PositiveIntegerField(default=0)
    refunds_recorded = models.PositiveIntegerField(default=0)
    # [{"kind", "message", "repaired", "payment_intent", "payment", "amount", "currency"}, ...]
    differences = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["workspace", "started_at"])]

    def __str__(self) -> str:
        return f"Reconciliation {self.uuid} ({self.started_at:%Y-%m-%d %H:%M})"

    @property
    def open_differences(self) -> list[dict]:
        """The differences the job could not repair itself."""
        return [d for d in self.differences if not d.get("repaired")]
