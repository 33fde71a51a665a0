from __future__ import annotations

from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"

    def ready(self) -> None:
        from integrations import receivers
        from integrations.hooks import stripe_event

        stripe_event.connect("contacts", receivers.on_stripe_event)
