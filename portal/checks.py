"""System checks for settings whose combination matters."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register


@register()
def q_cluster_retry(app_configs, **kwargs):
    """A task must not be handed to a second worker while it may still run."""
    q = settings.Q_CLUSTER
    if q.get("sync"):
        return []
    if q["retry"] < q["timeout"] + 10:
        return [
            Error(
                f"Q_CLUSTER retry ({q['retry']} s) must exceed timeout ({q['timeout']} s) by 10 s "
                "or more, or a running task could be executed twice.",
                id="portal.E001",
            )
        ]
    return []
