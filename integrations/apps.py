from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def ensure_schedules(sender, **kwargs) -> None:
    """The periodic task that enqueues again the Stripe events whose task was lost."""
    from django_q.models import Schedule

    Schedule.objects.update_or_create(
        name="Resume lost Stripe events",
        defaults={
            "func": "integrations.tasks.resume_lost_events",
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
        },
    )


class IntegrationsConfig(AppConfig):
    name = "integrations"

    def ready(self) -> None:
        post_migrate.connect(ensure_schedules, sender=self)
        from integrations import receivers
        from integrations.hooks import stripe_event

        stripe_event.connect("contacts", receivers.on_stripe_event)
