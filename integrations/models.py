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

    def __str__(self) -> str:
        return f"{self.account_name or self.account_id} ({self.get_mode_display()})"

    @property
    def masked_secret_key(self) -> str:
        """`sk_test_...4242`: enough to recognise a key, never enough to use it."""
        if not self.key_last4:
            return ""
        return f"{self.key_prefix}...{self.key_last4}"
