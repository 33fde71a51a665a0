"""Invoices, the workspace's payment process, work items, and payers' payment attempts."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from billing.models import Payment
from integrations.models import StripeConnection
from portal.models import Contact, OrgUnit, Role, Workspace


class ScopeType(models.TextChoices):
    UNIT = "UNIT", "UNIT: members of exactly that unit"
    TREE = "TREE", "TREE: that unit and the units below it"


class PaymentProcess(models.Model):
    """Who is assigned an invoice's payment work item: the portal's form of
    `<Assignee name="Invoice payers" path="/acme/Branch A" type="UNIT" scope="role(...)">`."""

    workspace = models.OneToOneField(
        Workspace, on_delete=models.CASCADE, related_name="payment_process"
    )
    assignee_name = models.CharField(max_length=120, default="Invoice payers")
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    scope_type = models.CharField(max_length=4, choices=ScopeType.choices, default=ScopeType.UNIT)
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="+")

    def __str__(self) -> str:
        scope = f"workflow=role('{self.role.name}')"
        return (
            f'<Assignee name="{self.assignee_name}" path="{self.org_unit.path}" '
            f'type="{self.scope_type}" scope="{scope}">'
        )


class Invoice(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        OPEN = "open", "Open"
        PARTIALLY_PAID = "partially_paid", "Partially paid"
        PROCESSING = "processing", "Payment processing"
        PAID = "paid", "Paid"
        VOID = "void", "Void"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="invoices")
    number = models.PositiveIntegerField()
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="invoices")
    org_unit = models.ForeignKey(
        OrgUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="invoices"
    )
    currency = models.CharField(max_length=3, default="usd")
    due_date = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    total = models.PositiveBigIntegerField(default=0)
    amount_paid = models.PositiveBigIntegerField(default=0)
    last_failure = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "number"], name="invoice_unique_number"),
        ]

    def __str__(self) -> str:
        return f"Invoice {self.display_number}"

    def get_absolute_url(self) -> str:
        return reverse("invoice_detail", args=[self.workspace.slug, self.uuid])

    @property
    def display_number(self) -> str:
        return f"INV-{self.number:05d}"

    @property
    def outstanding(self) -> int:
        return max(self.total - self.amount_paid, 0)


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(default=0)
    description = models.CharField(max_length=300)
    quantity = models.PositiveIntegerField(default=1)
    unit_price = models.PositiveBigIntegerField(help_text="In minor units of the currency.")

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.description

    @property
    def amount(self) -> int:
        return self.quantity * self.unit_price


class WorkItem(models.Model):
    """An invoice's payment task for its assignees; never two open ones for one invoice."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="work_items")
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="work_items")
    status = models.CharField(max_length=6, choices=Status.choices, default=Status.OPEN)
    assignee_name = models.CharField(max_length=120)
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    scope_type = models.CharField(max_length=4, choices=ScopeType.choices)
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # When its payers were e-mailed: claimed before sending, so they are told once.
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice"], condition=Q(status="open"), name="workitem_one_open"
            ),
        ]
        # The payers' inbox: a workspace's open items newest first, its closed ones last closed
        # first.
        indexes = [
            models.Index(fields=["workspace", "status", "created_at", "id"]),
            models.Index(fields=["workspace", "status", "closed_at"]),
        ]

    def __str__(self) -> str:
        return f"Pay {self.invoice}"

    def get_absolute_url(self) -> str:
        return reverse("work_item_detail", args=[self.workspace.slug, self.uuid])


class PayerProfile(models.Model):
    """An invoice payer's Stripe customer on one connection (their saved cards and banks)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="payer_profiles"
    )
    connection = models.ForeignKey(StripeConnection, on_delete=models.CASCADE, related_name="+")
    # Empty once the customer was deleted in Stripe; the next payment makes a new one, under a
    # key of the next generation (the old key would hand back the deleted customer).
    stripe_customer_id = models.CharField(max_length=255, blank=True)
    customer_generation = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "connection"], name="payer_one_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.user} on {self.connection}"


class BankAccount(models.Model):
    """A payer's US bank account being (or having been) verified with microdeposits."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for verification"
        VERIFIED = "verified", "Verified"
        FAILED = "failed", "Verification failed: contact your bank"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    payer = models.ForeignKey(PayerProfile, on_delete=models.CASCADE, related_name="bank_accounts")
    setup_intent_id = models.CharField(max_length=255)
    payment_method_id = models.CharField(max_length=255)
    bank_name = models.CharField(max_length=120, blank=True)
    last4 = models.CharField(max_length=4, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.bank_name} •••• {self.last4} ({self.status})"


class InvoicePayment(models.Model):
    """A payer's attempt to pay (part of) an invoice. While pending or processing its amount
    is reserved: the outstanding balance others can pay shrinks at once."""

    class Method(models.TextChoices):
        CARD = "card", "Card"
        ACH = "ach", "Bank account (ACH)"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSING = "processing", "Processing"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="attempts")
    work_item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField()
    payer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    method = models.CharField(max_length=4, choices=Method.choices)
    amount = models.PositiveBigIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    payment = models.OneToOneField(
        Payment, null=True, blank=True, on_delete=models.SET_NULL, related_name="invoice_attempt"
    )
    failure_message = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["work_item", "number"], name="attempt_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} on {self.invoice} ({self.status})"

    @property
    def idempotency_key(self) -> str:
        return f"workitem:{self.work_item.uuid}:attempt:{self.number}"
