"""Forms that end customers submit on a public page, and their submissions."""

from __future__ import annotations

import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse

from portal.models import Contact, Workspace


class Form(models.Model):
    """A public form (`/f/<slug>/`); each submission creates or updates a contact."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="forms")
    name = models.CharField(max_length=120)
    # Unique across workspaces: the public URL has no workspace in it.
    slug = models.SlugField(max_length=60)
    intro = models.TextField(blank=True, help_text="Shown above the fields.")
    success_message = models.CharField(
        max_length=300, default="Thank you, we received your answers."
    )
    is_active = models.BooleanField(
        "active", default=True, help_text="An inactive form's public page answers 404."
    )
    # The public page takes at most `submission_limit` submissions from one address in any
    # `submission_window_minutes` (counted from the first; portal/ratelimit.py).
    submission_limit = models.PositiveSmallIntegerField(
        default=5, validators=[MinValueValidator(1), MaxValueValidator(1000)]
    )
    submission_window_minutes = models.PositiveSmallIntegerField(
        default=10, validators=[MinValueValidator(1), MaxValueValidator(24 * 60)]
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["slug"], name="form_unique_slug"),
            models.CheckConstraint(
                condition=models.Q(submission_limit__gte=1, submission_limit__lte=1000),
                name="form_submission_limit_range",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    submission_window_minutes__gte=1, submission_window_minutes__lte=24 * 60
                ),
                name="form_submission_window_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("form_edit", args=[self.workspace.slug, self.uuid])

    def get_public_url(self) -> str:
        return reverse("public_form", args=[self.slug])


class FormField(models.Model):
    """One input of a form; its value goes to a contact field or a custom field named `key`."""

    class Kind(models.TextChoices):
        NAME = "name", "Name"
        EMAIL = "email", "E-mail"
        PHONE = "phone", "Phone"
        TEXT = "text", "Text"
        NUMBER = "number", "Number"
        DROPDOWN = "dropdown", "Dropdown"
        CHECKBOX = "checkbox", "Checkbox"

    class MapsTo(models.TextChoices):
        NAME = "name", "Contact name"
        EMAIL = "email", "Contact e-mail"
        PHONE = "phone", "Contact phone"
        CUSTOM = "custom", "Custom field (named by the key)"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    form = models.ForeignKey(Form, on_delete=models.CASCADE, related_name="fields")
    label = models.CharField(max_length=120)
    # The name in `trigger.fields.<key>` and, for custom fields, in Contact.custom_fields.
    key = models.SlugField(max_length=40)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.TEXT)
    maps_to = models.CharField(max_length=10, choices=MapsTo.choices, default=MapsTo.CUSTOM)
    required = models.BooleanField(default=False)
    choices = models.JSONField(default=list, blank=True, help_text="A dropdown's options.")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["form", "key"], name="formfield_unique_key"),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.key})"

    @property
    def workspace(self) -> Workspace:
        return self.form.workspace


class Submission(models.Model):
    """What someone sent through a form, keyed by field key (JSON-safe values)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="submissions")
    form = models.ForeignKey(Form, on_delete=models.CASCADE, related_name="submissions")
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="submissions"
    )
    data = models.JSONField(default=dict)
    submitted_at = models.DateTimeField(db_index=True)
    # One submission per page sent: the page's one-time token, or (a client that sent none)
    # the values' fingerprint within a ten-minute window. A double click or a resent page
    # finds the first submission instead of starting its workflows again.
    dedupe_key = models.CharField(max_length=100, null=True, blank=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        indexes = [models.Index(fields=["form", "submitted_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["form", "dedupe_key"], name="submission_unique_dedupe_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.form} at {self.submitted_at:%Y-%m-%d %H:%M}"
