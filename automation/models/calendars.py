"""Calendars people book on a public page, their weekly availability, and appointments."""

from __future__ import annotations

import uuid
import zoneinfo

from django.db import models
from django.urls import reverse

from portal.models import Contact, Workspace, validate_time_zone  # noqa: F401 (migrations)


class Calendar(models.Model):
    """Bookable slots of `slot_minutes` within the weekly availability, in `time_zone`."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="calendars")
    name = models.CharField(max_length=120)
    # Unique across workspaces: the public URL has no workspace in it.
    slug = models.SlugField(max_length=60)
    slot_minutes = models.PositiveIntegerField("slot length (minutes)", default=30)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    price_amount = models.PositiveBigIntegerField(default=0, help_text="Minor units.")
    price_currency = models.CharField(max_length=3, default="usd")
    is_active = models.BooleanField(
        "active", default=True, help_text="An inactive calendar's booking page answers 404."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["slug"], name="calendar_unique_slug"),
            models.CheckConstraint(
                condition=models.Q(slot_minutes__gte=5, slot_minutes__lte=24 * 60),
                name="calendar_slot_minutes_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("calendar_edit", args=[self.workspace.slug, self.uuid])

    def get_public_url(self) -> str:
        return reverse("public_booking", args=[self.slug])

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class Availability(models.Model):
    """A weekly window in the calendar's zone; a day may have several."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="availability")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_time = models.TimeField()
    end_time = models.TimeField()

    class Meta:
        ordering = ["weekday", "start_time", "id"]
        verbose_name_plural = "availability"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_time__gt=models.F("start_time")),
                name="availability_ends_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(weekday__lte=6), name="availability_weekday_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start_time:%H:%M}–{self.end_time:%H:%M}"

    @property
    def workspace(self) -> Workspace:
        return self.calendar.workspace


class Appointment(models.Model):
    """A booked slot. At most one appointment that is not cancelled per calendar and start."""

    class Status(models.TextChoices):
        BOOKED = "booked", "Booked"
        CONFIRMED = "confirmed", "Confirmed"
        CANCELLED = "cancelled", "Cancelled"
        SHOWED = "showed", "Showed"
        NO_SHOW = "no_show", "No show"

    class PaymentStatus(models.TextChoices):
        UNPAID = "unpaid", "Unpaid"
        CHARGED_IN_FULL = "charged_in_full", "Charged in Full"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="appointments")
    calendar = models.ForeignKey(Calendar, on_delete=models.PROTECT, related_name="appointments")
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="appointments"
    )
    # As the person typed them when booking (the contact may change later).
    name = models.CharField(max_length=200)
    email = models.EmailField("e-mail")
    phone = models.CharField(max_length=40, blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.BOOKED)
    # How many times the status changed: numbers the `appointment_status:<uuid>:<n>` causes.
    status_changes = models.PositiveIntegerField(default=0)
    # Set by billing; staff do not edit it.
    payment_status = models.CharField(
        max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.UNPAID
    )
    # The calendar's price when booked.
    price_amount = models.PositiveBigIntegerField(default=0)
    price_currency = models.CharField(max_length=3, default="usd")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["calendar", "starts_at"],
                condition=~models.Q(status="cancelled"),
                name="appointment_one_per_slot",
                violation_error_message="That time is already booked.",
            ),
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="appointment_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["workspace", "starts_at"])]

    def __str__(self) -> str:
        return f"{self.name} at {self.starts_at:%Y-%m-%d %H:%M} ({self.calendar})"

    def get_absolute_url(self) -> str:
        return reverse("appointment_detail", args=[self.workspace.slug, self.uuid])
