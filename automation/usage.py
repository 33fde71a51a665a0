"""Which workflows use a Stripe connection (shown before the connection is removed)."""

from __future__ import annotations

from automation.models import Workflow


def _steps(steps: list):
    for step in steps or []:
        yield step
        yield from _steps(step.get("then"))
        yield from _steps(step.get("else"))


def _uses(definition: dict, connection_uuid: str) -> bool:
    trigger = (definition or {}).get("trigger") or {}
    if (trigger.get("config") or {}).get("connection") == connection_uuid:
        return True
    return any(
        (step.get("config") or {}).get("connection") == connection_uuid
        for step in _steps((definition or {}).get("steps"))
    )


def workflows_using_connection(connection) -> list[tuple[str, str]]:
    """(label, url) of each workflow whose draft or published version uses the connection.

    A `STRIPE_CONNECTION_USAGE` entry: integrations lists them without importing automation.
    """
    wanted = str(connection.uuid)
    found = []
    workflows = Workflow.objects.filter(workspace=connection.workspace_id).select_related(
        "published_version", "workspace"
    )
    for workflow in workflows:
        published = workflow.published_version.definition if workflow.published_version else {}
        if _uses(workflow.definition, wanted) or _uses(published, wanted):
            state = "published" if workflow.status == "published" else "draft"
            found.append((f"Workflow “{workflow.name}” ({state})", workflow.get_absolute_url()))
    return found
