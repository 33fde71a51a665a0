from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def ensure_schedules(sender, **kwargs) -> None:
    """The periodic task that drains the Stripe events whose task was lost."""
    from portal.schedules import schedule_every

    schedule_every(name="Resume lost Stripe events", func="integrations.tasks.resume_lost_events",
                   minutes=1)  # fmt: skip


class IntegrationsConfig(AppConfig):
    name = "integrations"

    def ready(self) -> None:
        post_migrate.connect(ensure_schedules, sender=self)
        from integrations import receivers
        from integrations.hooks import stripe_event

        stripe_event.connect("contacts", receivers.on_stripe_event)
