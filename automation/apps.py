from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_delete, post_migrate, post_save


def ensure_schedules(sender, **kwargs) -> None:
    """The periodic task that resumes runs whose worker died (after every migrate)."""
    from portal.schedules import schedule_every

    schedule_every(name="Resume stale workflow runs", func="automation.tasks.resume_stale_runs",
                   minutes=1)  # fmt: skip


class AutomationConfig(AppConfig):
    name = "automation"

    def ready(self) -> None:
        post_migrate.connect(ensure_schedules, sender=self)
        from automation import receivers
        from integrations.hooks import connection_usage, stripe_event

        stripe_event.connect("workflows", receivers.on_stripe_event)
        from automation.models import Workflow, WorkflowVersion

        for model in (Workflow, WorkflowVersion):
            for signal in (post_save, post_delete):
                signal.connect(receivers.on_workflow_saved, sender=model,
                               dispatch_uid=f"workflows_changed:{model.__name__}")  # fmt: skip
        connection_usage.connect("workflows", receivers.on_connection_usage)
