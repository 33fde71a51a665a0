"""Stripe events start the workflows whose Stripe trigger matches their family."""

from __future__ import annotations

from automation.models import Workflow
from automation.services.runs import runs_start_for_trigger
from portal.models import Contact

FAMILIES = {
    "payment_intent.": "stripe_payment_event",
    "charge.": "stripe_charge_event",
    "customer.": "stripe_customer_event",
}


def on_stripe_event(event) -> None:
    """A `STRIPE_EVENT_SUBSCRIBERS` entry: runs for the event, in the processing transaction.

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
        trigger={**event.trigger_output(), "_connection": str(connection.uuid)},
        cause=f"stripe_event:{event.event_id}",
        contact=contact,
        only_workflow=only,
    )
