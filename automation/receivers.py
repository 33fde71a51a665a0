"""What automation hears from the apps below it: Stripe events start the workflows whose Stripe
trigger matches their family; a connection about to be removed lists the workflows using it."""

from __future__ import annotations

from automation.definition import steps_walk
from automation.engine import run_execute_here
from automation.models import Workflow
from automation.services.runs import runs_start_for_trigger, workflows_changed
from portal.models import Contact

FAMILIES = {
    "payment_intent.": "stripe_payment_event",
    "charge.": "stripe_charge_event",
    "customer.": "stripe_customer_event",
}


def on_stripe_event(event) -> None:
    """Runs for the event, in the processing transaction (`stripe_event`, stage "workflows");
    those whose steps call nothing outside are executed in it too.

    The contact is the one whose Stripe customer the event is about. An event that came
    through a trigger's dedicated endpoint (`trigger_key` "workflow:<uuid>") starts only that
    workflow; a workflow gets one run per event id whichever way the event came.
    """
    event_type = event.type or ""
    trigger_type = next(
        (t for prefix, t in FAMILIES.items() if event_type.startswith(prefix)), None
    )
    if trigger_type is None:
        return
    connection = event.endpoint.connection
    workspace = connection.workspace
    obj = (event.payload.get("data") or {}).get("object") or {}
    customer_id = obj.get("id") if trigger_type == "stripe_customer_event" else obj.get("customer")
    contact = None
    if isinstance(customer_id, str) and customer_id:
        contact = Contact.objects.filter(
            workspace=workspace, stripe_customer_id=customer_id
        ).first()
    only = None
    if event.endpoint.trigger_key.startswith("workflow:"):
        only = Workflow.objects.filter(
            workspace=workspace, uuid=event.endpoint.trigger_key.split(":", 1)[1]
        ).first()
        if only is None:
            return
    runs_start_for_trigger(
        workspace=workspace,
        trigger_type=trigger_type,
        trigger={
            **event.trigger_output(),
            "_connection": str(connection.uuid),
            # A trigger set to its own endpoint takes only the events verified there.
            "_endpoint": "trigger" if only is not None else "connection",
        },
        cause=f"stripe_event:{event.event_id}",
        contact=contact,
        only_workflow=only,
        # On the worker already, in the event's transaction: a run of filters and branches
        # is finished here, with no task of its own (tests/perf/README.md).
        execute_here=run_execute_here,
    )


def _uses(definition: dict, connection_uuid: str) -> bool:
    trigger = (definition or {}).get("trigger") or {}
    if (trigger.get("config") or {}).get("connection") == connection_uuid:
        return True
    return any(
        (placed.step.get("config") or {}).get("connection") == connection_uuid
        for placed in steps_walk(definition)
    )


def on_connection_usage(connection) -> list[tuple[str, str]]:
    """(label, url) of each workflow whose draft or published version uses the connection.

    (`connection_usage`, stage "workflows".)
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


def on_workflow_saved(sender, instance, **kwargs) -> None:
    """A workflow or a version saved or deleted (Django's post_save and post_delete): the
    workers' list of published triggers is stale."""
    workspace_id = getattr(instance, "workspace_id", None)
    if workspace_id is None:  # a version
        workspace_id = (
            Workflow.objects.filter(pk=instance.workflow_id)
            .values_list("workspace_id", flat=True)
            .first()
        )
    if workspace_id is not None:
        workflows_changed(workspace_id=workspace_id)
