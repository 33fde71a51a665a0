from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def ensure_schedules(sender, **kwargs) -> None:
    """The daily reconciliation of the ledger with Stripe, and the closing of expired payment
    links' PaymentIntents every five minutes (after every migrate)."""
    from django_q.models import Schedule

    from portal.schedules import schedule_every

    # A link's page may stay open past its expiry: its intent is canceled in Stripe soon after.
    schedule_every(name="Close expired payment links", func="billing.tasks.close_expired_links",
                   minutes=5)  # fmt: skip
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
        from automation.registry import action_register
        from billing import receivers
        from integrations.hooks import stripe_event

        stripe_event.connect("ledger", receivers.on_stripe_event)
        # The workflow steps that charge go through billing's one way to charge.
        action_register(
            "stripe_one_time_charge",
            "Stripe one-time charge",
            "billing.actions.one_time_charge.Action",
            first=True,
        )
        action_register(
            "send_payment_link", "Send payment link", "billing.actions.send_payment_link.Action"
        )
