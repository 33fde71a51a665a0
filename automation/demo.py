"""Demo forms, calendars and a published pay-per-lead workflow (part of `demo_data`)."""

from __future__ import annotations

import datetime as dt

from automation.definition import steps_of
from automation.models import Calendar, Form, Workflow
from automation.services import workflows as wf
from automation.services.calendars import calendar_save
from automation.services.forms import form_save
from portal.models import Workspace

LEAD_FIELDS = [
    {"label": "Name", "key": "name", "kind": "name", "maps_to": "name", "required": True},
    {"label": "E-mail", "key": "email", "kind": "email", "maps_to": "email", "required": True},
    {"label": "Phone", "key": "phone", "kind": "phone", "maps_to": "phone", "required": False},
    {"label": "Lead value", "key": "lead_value", "kind": "number", "maps_to": "custom",
     "required": False},
]  # fmt: skip


def demo_automation(workspace: Workspace, connection, client_customer_id: str = "") -> None:
    """Idempotent: what exists (by slug or name) is left as it is. `client_customer_id` is
    the Stripe customer of the business the agency bills per lead."""
    form = Form.objects.filter(slug="acme-lead-form").first() or form_save(
        workspace=workspace,
        name="Lead form",
        slug="acme-lead-form",
        intro="Tell us about your smile and we will call you back.",
        fields=LEAD_FIELDS,
    )
    if not Calendar.objects.filter(slug="acme-cleaning").exists():
        calendar_save(
            workspace=workspace,
            name="Cleaning",
            slug="acme-cleaning",
            slot_minutes=30,
            time_zone="America/New_York",
            price_amount=12000,
            price_currency="usd",
            availability=[(day, dt.time(9), dt.time(17)) for day in range(5)],
        )
    if connection is not None and client_customer_id:
        _pay_per_lead(workspace, form, connection, client_customer_id)


# The lead fee the agency charges its client for each lead, and the workflow's limits.
LEAD_FEE = 25_00  # USD cents
MAX_PER_CHARGE = 50_00
MAX_PER_DAY = 500_00


def _pay_per_lead(workspace: Workspace, form: Form, connection, customer_id: str) -> None:
    """Pay per lead as agencies run it: each lead arriving on the form charges the *client*
    (one Stripe customer, fixed in the step) a fixed fee. The lead who fills the form is not
    the payer: nothing they type chooses whose card is charged or how much.

    A "Pay per lead" left by an earlier demo (charging the lead's own contact) is rebuilt.
    """
    workflow = workspace.workflows.filter(name="Pay per lead").first()
    config = {
        "connection": str(connection.uuid),
        "customer_id": customer_id,
        "description": "Lead fee: {{ trigger.fields.name }} ({{ trigger.fields.email }})",
        "amount": LEAD_FEE,
        "amount_in_minor_units": False,
        "currency": "usd",
    }
    if workflow is not None:
        steps = steps_of(workflow.definition)
        if steps and (steps[0].get("config") or {}).get("customer_id") == customer_id:
            return  # already the client-pays demo
    else:
        workflow = wf.workflow_create(workspace=workspace, name="Pay per lead")
    wf.trigger_set(workflow=workflow, type="form_submitted", config={"forms": [str(form.uuid)]})
    for step in list(steps_of(workflow.definition)):
        wf.step_remove(workflow=workflow, key=step["key"])
    step = wf.step_add(workflow=workflow, type="stripe_one_time_charge")
    wf.step_update(
        workflow=workflow, key=step["key"], name="Charge the client the lead fee", config=config
    )
    wf.workflow_settings_save(
        workflow=workflow,
        max_amount_per_charge=MAX_PER_CHARGE,
        max_amount_per_day=MAX_PER_DAY,
        safety_currency="usd",
        allow_reentry=workflow.allow_reentry,
    )
    wf.workflow_publish(workflow=Workflow.objects.get(pk=workflow.pk))
