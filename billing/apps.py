from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def ensure_schedules(sender, **kwargs) -> None:
    """The daily reconciliation of the ledger with Stripe, and the closing of expired payment
    links' PaymentIntents every five minutes (after every migrate)."""
    from django_q.models import Schedule

    # A link's page may stay open past its expiry: its intent is canceled in Stripe soon after.
    Schedule.objects.update_or_create(
        name="Close expired payment links",
        defaults={
            "func": "billing.tasks.close_expired_links",
            "schedule_type": Schedule.MINUTES,
            "minutes": 5,
            "repeats": -1,
        },
    )
    Schedule.objects.update_or_create(
        name="Reconcile the ledger with Stripe",
        defaults={
            "func": "billing.tasks.reconcile_daily",
            "schedule_type": Schedule.DAILY,
            "repeats": -1,
        },
    )


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self) -> None:
        post_migrate.connect(ensure_schedules, sender=self)
