"""Stripe connections: one client account's Stripe credentials, encrypted at rest."""

from __future__ import annotations

import uuid

from django.db import models
from fernet_fields import EncryptedTextField

from portal.models import Workspace


class StripeConnection(models.Model):
    class Mode(models.TextChoices):
        TEST = "test", "Test"
        LIVE = "live", "Live"

    class Via(models.TextChoices):
        KEY = "key", "Pasted secret key"
        OAUTH = "oauth", "Stripe Connect"

    class Health(models.TextChoices):
        OK = "ok", "OK"
        AUTH_FAILED = "auth_failed", "Key rejected"
        PERMISSION_MISSING = "permission_missing", "Permission missing"
        UNKNOWN = "unknown", "Not checked yet"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="stripe_connections"
    )
    # Never rendered: forms show `masked_secret_key`, the admin excludes the field.
    secret_key = EncryptedTextField(blank=True)
    publishable_key = models.CharField(max_length=255, blank=True)
    mode = models.CharField(max_length=4, choices=Mode.choices)
    connected_via = models.CharField(max_length=5, choices=Via.choices, default=Via.KEY)
    account_id = models.CharField("Stripe account ID", max_length=255)
    account_name = models.CharField(max_length=255, blank=True)
    # The account's, as Stripe answered when it was connected (or its key replaced): pages
    # read them from here instead of asking Stripe on every view. Empty: not known yet.
    country = models.CharField(max_length=2, blank=True, default="")
    default_currency = models.CharField(max_length=3, blank=True, default="")
    key_last4 = models.CharField(max_length=4, blank=True)
    key_prefix = models.CharField(max_length=8, blank=True)
    is_default = models.BooleanField(default=False)
    health = models.CharField(max_length=20, choices=Health.choices, default=Health.UNKNOWN)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_default", "account_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace"],
                condition=models.Q(is_default=True),
                name="stripe_connection_one_default",
            ),
        ]
        indexes = [
            # The platform's Connect endpoint routes each event by its `account`.
            models.Index(fields=["account_id", "connected_via"], name="stripe_conn_account"),
        ]

    def __str__(self) -> str:
        return f"{self.account_name or self.account_id} ({self.get_mode_display()})"

    @property
    def masked_secret_key(self) -> str:
        """`sk_test_...4242`: enough to recognise a key, never enough to use it."""
        if not self.key_last4:
            return ""
        return f"{self.key_prefix}...{self.key_last4}"


class WebhookEndpoint(models.Model):
    """Where Stripe delivers one connection's events: `/hooks/stripe/<uuid>/`, with its secret.

    One per connection for its events in general; a Stripe trigger may get a dedicated one
    (`trigger_key`), with its own secret, as the TaskJuice page describes. The events of an
    account connected through Connect OAuth come to the platform's endpoint instead
    (`/hooks/stripe/connect/`, one secret from the environment) and are stored under the
    connection's own row (trigger_key ""), which then needs neither a Stripe endpoint nor a
    secret: without a secret its own URL refuses every delivery.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    connection = models.ForeignKey(
        StripeConnection, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    # Empty for the connection's own endpoint; a trigger's key for a dedicated one.
    trigger_key = models.CharField(max_length=100, blank=True)
    stripe_endpoint_id = models.CharField(max_length=255, blank=True)
    # The signing secret(s): the current one, and the previous one while Stripe rotates.
    secret = EncryptedTextField(blank=True)
    previous_secret = EncryptedTextField(blank=True)
    enabled_events = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["trigger_key", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "trigger_key"], name="webhook_endpoint_one_per_purpose"
            ),
        ]

    def __str__(self) -> str:
        return f"Webhook endpoint {self.uuid} ({self.trigger_key or 'connection'})"

    @property
    def workspace(self):
        return self.connection.workspace

    @property
    def has_secret(self) -> bool:
        return bool(self.secret)


class EventDrainRequest(models.Model):
    """While this one row (id 1) exists, a task to process the waiting Stripe events is queued
    and has not started yet. The intake inserts it in the event's own transaction and enqueues
    a task only when it was not there, so a burst of events costs one task, not one each; the
    task deletes it before it looks for events (integrations.events.events_drain)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    requested_at = models.DateTimeField()

    class Meta:
        db_table = "integrations_eventdrainrequest"  # named in integrations.events' SQL

    def __str__(self) -> str:
        return f"drain requested at {self.requested_at}"


class StripeEvent(models.Model):
    """One Stripe event as received, stored once per endpoint; processing happens later."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSING = "processing", "Processing"
        PROCESSED = "processed", "Processed"
        FAILED = "failed", "Failed"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="events")
    event_id = models.CharField(max_length=255)
    type = models.CharField(max_length=100)
    api_version = models.CharField(max_length=50, blank=True)
    livemode = models.BooleanField(default=False)
    created = models.DateTimeField(help_text="When Stripe created the event.")
    payload = models.JSONField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RECEIVED)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(
        max_length=10,
        default="webhook",
        help_text="webhook, connect (the platform's Connect endpoint), or fetch (taken from the "
        "Events API)",
    )
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="stripe_event_once"),
        ]
        indexes = [
            models.Index(fields=["endpoint", "status"]),
            models.Index(fields=["type"]),
            models.Index(fields=["endpoint", "created", "id"]),  # the events page, newest first
            models.Index(fields=["status", "received_at"]),  # events whose task was lost
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"

    @property
    def workspace(self):
        return self.endpoint.connection.workspace

    def trigger_output(self) -> dict:
        """What a workflow trigger sees (TaskJuice "Trigger output")."""
        keys = ("id", "type", "api_version", "created", "livemode", "data", "request")
        return {key: self.payload.get(key) for key in keys}
