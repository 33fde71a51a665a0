"""Tenancy (workspaces, org units, roles, memberships, invitations) and contacts."""

from __future__ import annotations

import secrets
import unicodedata
import uuid
import zoneinfo
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Left, Lower
from django.urls import reverse
from django.utils import timezone

from portal import perms
from portal.money import DEFAULT_LOCALE, LOCALES


def email_folded(value: str) -> str:
    """An e-mail address as compared when it names a person: without case, Unicode-normalised
    (the password reset form and invitations compare addresses this way)."""
    return unicodedata.normalize("NFKC", value or "").casefold()


def validate_time_zone(value: str) -> None:
    """An IANA zone name (America/New_York), as zoneinfo knows it."""
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            f"“{value}” is not a time zone name such as America/New_York."
        ) from None


class Workspace(models.Model):
    """One client account of the agency; everything a user sees belongs to exactly one."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    notify_admins_of_payments = models.BooleanField(
        default=True, help_text="E-mail the workspace's owners when a customer pays."
    )
    # Members who can charge, manage Stripe or manage the workspace must use two-factor sign-in
    # here (portal.access.get_workspace_for sends them to set it up).
    require_two_factor = models.BooleanField(default=False)
    # The client's zone: workflows' waits count days and read times written without a zone in
    # it. Blank: the zone of the workspace's first calendar, else UTC (automation wait action).
    time_zone = models.CharField(max_length=64, blank=True, validators=[validate_time_zone])
    # How amounts read on its pages and in its e-mails (portal.money.format_amount).
    locale = models.CharField(max_length=10, choices=LOCALES, default=DEFAULT_LOCALE)
    # Counts changes of its workflows (any save or delete of one, or of a version): a worker
    # keeps the published workflows' triggers in memory for as long as it is unchanged
    # (automation.services.runs), read for free with the event that names the workspace.
    workflows_changed = models.PositiveBigIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("workspace_home", args=[self.slug])

    @property
    def zone_name(self) -> str:
        """The client's zone: its own setting, else its first calendar's, else UTC."""
        if self.time_zone:
            return self.time_zone
        first = self.calendars.order_by("id").values_list("time_zone", flat=True).first()
        return first or "UTC"


class OrgUnitQuerySet(models.QuerySet):
    def below(self, path: str) -> OrgUnitQuerySet:
        """The units under `path`, compared case-sensitively.

        Not `path__startswith`: SQLite's LIKE ignores case, so `/acme/` would match `/ACME/x`.
        """
        prefix = path + "/"
        return self.alias(path_prefix=Left("path", len(prefix))).filter(path_prefix=prefix)


class OrgUnit(models.Model):
    """A node of the workspace's organisation tree, addressed by its path (`/acme/Branch A`)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="org_units")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    name = models.CharField(max_length=80)
    path = models.CharField(max_length=500, editable=False)

    objects = OrgUnitQuerySet.as_manager()

    class Meta:
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "path"], name="orgunit_unique_path"),
        ]

    def __str__(self) -> str:
        return self.path

    @property
    def depth(self) -> int:
        return self.path.count("/") - 1

    def clean(self) -> None:
        if "/" in self.name:
            raise ValidationError({"name": "A unit's name cannot contain '/'."})
        if self.parent_id and self.parent.workspace_id != self.workspace_id:
            raise ValidationError({"parent": "The parent unit belongs to another workspace."})

    def is_within(self, other: OrgUnit) -> bool:
        """True if this unit is `other` or lies below it."""
        return self.path == other.path or self.path.startswith(other.path + "/")


class Role(models.Model):
    """A named set of permission strings; the built-in ones are created with each workspace."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="roles")
    name = models.CharField(max_length=80)
    permissions = models.JSONField(default=list, blank=True)
    builtin = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="role_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        unknown = set(self.permissions) - perms.ALL
        if unknown:
            raise ValidationError({"permissions": f"Unknown permissions: {sorted(unknown)}"})


class Membership(models.Model):
    """A user's place in a workspace: their roles and their org unit."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    roles = models.ManyToManyField(Role, related_name="memberships", blank=True)
    org_unit = models.ForeignKey(
        OrgUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="memberships"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user__email"]
        constraints = [
            models.UniqueConstraint(fields=["user", "workspace"], name="membership_unique_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace}"


class UserPreferences(models.Model):
    """What the portal remembers of a person across workspaces: the zone their browser last
    reported (the `tz` cookie, portal.middleware), so e-mails to them read in their clock."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preferences"
    )
    time_zone = models.CharField(max_length=64, blank=True, validators=[validate_time_zone])
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user}: {self.time_zone or 'no zone'}"


def _invitation_token() -> str:
    return secrets.token_urlsafe(32)


class InvitationQuerySet(models.QuerySet):
    def pending(self) -> InvitationQuerySet:
        """Not answered nor revoked; expired ones too (a new invitation refreshes them)."""
        return self.filter(accepted_at=None, declined_at=None, revoked_at=None)

    def open(self) -> InvitationQuerySet:
        """Pending and not expired: what the invitee may still accept."""
        return self.pending().filter(expires_at__gt=timezone.now())


class Invitation(models.Model):
    """An offer, e-mailed, to join a workspace. The membership is made only when the person
    the e-mail address names accepts it: nobody is put in a workspace without saying yes."""

    LIFETIME = timedelta(days=14)

    class Status(models.TextChoices):
        PENDING = "pending", "Invited"
        EXPIRED = "expired", "Expired"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        REVOKED = "revoked", "Revoked"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField("e-mail")
    roles = models.ManyToManyField(Role, related_name="invitations", blank=True)
    org_unit = models.ForeignKey(
        OrgUnit, null=True, blank=True, on_delete=models.SET_NULL, related_name="invitations"
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invitations_sent",
    )
    # The link's secret: the only way to the invitation from outside the workspace.
    token = models.CharField(max_length=64, unique=True, default=_invitation_token, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    declined_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["email", "id"]
        constraints = [
            models.UniqueConstraint(
                "workspace",
                Lower("email"),
                condition=models.Q(accepted_at=None, declined_at=None, revoked_at=None),
                name="invitation_unique_pending",
                violation_error_message="This address has a pending invitation already.",
            ),
        ]

    def __str__(self) -> str:
        return f"Invitation of {self.email} to {self.workspace}"

    def get_absolute_url(self) -> str:
        return reverse("invitation_detail", args=[self.token])

    @property
    def status(self) -> Invitation.Status:
        if self.accepted_at:
            return self.Status.ACCEPTED
        if self.declined_at:
            return self.Status.DECLINED
        if self.revoked_at:
            return self.Status.REVOKED
        if self.expires_at <= timezone.now():
            return self.Status.EXPIRED
        return self.Status.PENDING

    def is_for(self, user) -> bool:
        """Whether `user` is the person the invitation's address names."""
        email = getattr(user, "email", "") or ""
        return bool(email) and email_folded(email) == email_folded(self.email)

    @property
    def inviter_name(self) -> str:
        user = self.invited_by
        if user is None:
            return "An owner of the workspace"
        return user.get_full_name() or user.email or user.get_username()

    @property
    def role_names(self) -> str:
        """ "Staff and Viewer"; uses prefetched roles when the caller fetched them."""
        names = [role.name for role in self.roles.all()]
        if not names:
            return "a member without a role"
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


class Contact(models.Model):
    """A person or business the workspace does business with (a lead, a customer, a payer)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    email = models.EmailField("e-mail", blank=True)
    phone = models.CharField(max_length=40, blank=True)
    stripe_customer_id = models.CharField("Stripe customer ID", max_length=255, blank=True)
    # How many Stripe customers of this contact were deleted (forgotten). Part of the
    # idempotency key that creates its customer: a re-creation after a deletion is a new
    # customer, not Stripe's replay of the deleted one.
    stripe_customer_generation = models.PositiveIntegerField(default=0, editable=False)
    custom_fields = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                "workspace",
                Lower("email"),
                condition=~models.Q(email=""),
                name="contact_unique_email",
                violation_error_message="Another contact of this workspace has this e-mail.",
            ),
        ]
        indexes = [models.Index(fields=["workspace", "name"])]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("contact_detail", args=[self.workspace.slug, self.uuid])


def _shown(value) -> str:
    """A value of an audit entry's changes in words: lists joined, nothing as a dash."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) if value else "none"
    return str(value)


class AuditEntryQuerySet(models.QuerySet):
    """Entries are only ever added: bulk updates and deletes are refused like single ones.
    (Django's own SET_NULL, when a workspace or a user is deleted, goes through the base
    manager and still clears the link; the copied names stay.)"""

    def update(self, **kwargs):
        raise AuditEntry.AppendOnly("Audit entries cannot be changed.")

    def delete(self):
        raise AuditEntry.AppendOnly("Audit entries cannot be deleted.")


class AuditEntry(models.Model):
    """Who moved money or changed who can, when, from where, and what changed.

    Kept when what it names is gone: the workspace and the actor are linked with SET_NULL and
    their names copied; the object changed is named by type, id and label, never linked.
    Written by `portal.audit.audit_record` in the transaction of the change it records.
    """

    class AppendOnly(Exception):
        """An existing entry was to be saved again or deleted."""

    class Action(models.TextChoices):
        STRIPE_CONNECT = "stripe.connect", "Stripe account connected"
        STRIPE_KEY_REPLACE = "stripe.key_replace", "Stripe key replaced"
        STRIPE_DEFAULT_SET = "stripe.default_set", "Stripe default account changed"
        STRIPE_REMOVE = "stripe.remove", "Stripe connection removed"
        WORKFLOW_PUBLISH = "workflow.publish", "Workflow published"
        WORKFLOW_UNPUBLISH = "workflow.unpublish", "Workflow unpublished"
        WORKFLOW_DELETE = "workflow.delete", "Workflow deleted"
        WORKFLOW_RESTORE = "workflow.restore", "Workflow version restored as draft"
        WORKFLOW_COPY = "workflow.copy", "Workflow copied between workspaces"
        WORKFLOW_IMPORT = "workflow.import", "Workflow imported"
        PAYMENT_CHARGE = "payment.charge", "Charge"
        PAYMENT_REFUND = "payment.refund", "Refund"
        CARD_REMOVE = "card.remove", "Saved card removed"
        LINK_CREATE = "link.create", "Payment link created"
        LINK_SEND = "link.send", "Payment link sent"
        LINK_CANCEL = "link.cancel", "Payment link cancelled"
        INVOICE_PROCESS = "invoice.process", "Invoice processed"
        INVOICE_VOID = "invoice.void", "Invoice voided"
        MEMBER_INVITE = "member.invite", "Member invited"
        MEMBER_INVITE_RESEND = "member.invite_resend", "Invitation sent again"
        MEMBER_INVITE_REVOKE = "member.invite_revoke", "Invitation revoked"
        MEMBER_INVITE_ACCEPT = "member.invite_accept", "Invitation accepted"
        MEMBER_UPDATE = "member.update", "Member's roles changed"
        MEMBER_REMOVE = "member.remove", "Member removed"
        ROLE_CREATE = "role.create", "Role created"
        ROLE_UPDATE = "role.update", "Role changed"

    workspace = models.ForeignKey(
        Workspace, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_entries"
    )
    workspace_name = models.CharField(max_length=120, blank=True)
    workspace_slug = models.CharField(max_length=60, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audit_entries",
    )
    # The user's e-mail as it was, or "workflow <name>", "system" for what nobody clicked.
    actor_label = models.CharField(max_length=200)
    address = models.GenericIPAddressField(null=True, blank=True)
    action = models.CharField(max_length=40, choices=Action.choices)
    summary = models.CharField(max_length=500)
    # {"field": {"before": ..., "after": ...}}: values as the pages show them, keys masked.
    changes = models.JSONField(default=dict, blank=True)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [
            models.Index(fields=["workspace", "-created_at", "-id"]),
            models.Index(fields=["workspace", "action"]),
            models.Index(fields=["workspace", "actor_label"]),
        ]

    def __str__(self) -> str:
        return f"{self.actor_label}: {self.summary}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise self.AppendOnly("Audit entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise self.AppendOnly("Audit entries cannot be deleted.")

    @property
    def change_rows(self) -> list[tuple[str, str, str]]:
        """(field, before, after) as the page shows them."""
        rows = []
        for field, change in (self.changes or {}).items():
            if isinstance(change, dict) and set(change) <= {"before", "after"}:
                rows.append((field, _shown(change.get("before")), _shown(change.get("after"))))
            else:
                rows.append((field, "", _shown(change)))
        return rows
