from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def ensure_schedules(sender, **kwargs) -> None:
    """Cancel new-card invoice payments nobody confirmed (after every migrate)."""
    from portal.schedules import schedule_every

    schedule_every(name="Cancel abandoned invoice payments",
                   func="invoices.tasks.cancel_abandoned_payments", minutes=5)  # fmt: skip


class InvoicesConfig(AppConfig):
    name = "invoices"

    def ready(self) -> None:
        post_migrate.connect(ensure_schedules, sender=self)
        from billing.hooks import payment_status_changed
        from integrations.hooks import stripe_event
        from invoices import receivers

        stripe_event.connect("payers", receivers.on_stripe_event)
        payment_status_changed.connect("invoices", receivers.on_payment_status_changed)
