from __future__ import annotations

import os

from django.apps import AppConfig
from django.conf import settings


def worker_spawned(sender, proc_name: str = "", **kwargs) -> None:
    """A django-q2 worker process starts: lower its CPU priority by WORKER_NICE, so that on a
    busy machine the web processes answer first (Stripe waits for the acknowledgement of
    every delivery; the workers catch up when the burst is over). 0 leaves it alone."""
    if settings.WORKER_NICE:
        os.nice(settings.WORKER_NICE)


class PortalConfig(AppConfig):
    name = "portal"

    def ready(self) -> None:
        from django_q.signals import post_spawn

        from portal import checks  # noqa: F401  (registers the system checks)

        post_spawn.connect(worker_spawned, dispatch_uid="portal.worker_nice")
