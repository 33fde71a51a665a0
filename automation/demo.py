"""Demo forms, calendars and a published pay-per-lead workflow (part of `demo_data`)."""

from __future__ import annotations

import datetime as dt

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


def demo_automation(workspace: Workspace, connection) -> None:
    """Idempotent: what exists (by slug or name) is left as it is."""
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
    if connection is None or workspace.workflows.filter(name="Pay per lead").exists():
        return
    workflow = wf.workflow_create(workspace=workspace, name="Pay per lead")
    wf.trigger_set(workflow=workflow, type="form_submitted", config={"forms": [str(form.uuid)]})
    step = wf.step_add(workflow=workflow, type="stripe_one_time_charge")
    wf.step_update(
        workflow=workflow,
        key=step["key"],
        name="Charge the lead fee",
        config={
            "connection": str(connection.uuid),
            "customer_id": "{{ contact.stripe_customer_id }}",
            "description": "Lead fee: {{ contact.name }}",
            "amount": "{{ contact.custom.lead_value }}",
            "amount_in_minor_units": False,
            "currency": "usd",
        },
    )
    wf.workflow_publish(workflow=Workflow.objects.get(pk=workflow.pk))
