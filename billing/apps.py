from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def ensure_schedules(sender, **kwargs) -> None:
    """The daily reconciliation of the ledger with Stripe (after every migrate)."""
    from django_q.models import Schedule

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
