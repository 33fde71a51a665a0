"""Workflows against the sandbox: publish a workflow and run it the way a trigger would.

The connected workspace and the contact with a saved card come from tests/conftest.py."""

from __future__ import annotations

import pytest

from automation.models import Run, Workflow, WorkflowVersion
from automation.services.runs import runs_start_for_trigger
from tests.conftest import saved_customer  # noqa: F401  (imported from here by tests)


def publish(
    workspace, steps, *, trigger="manual", trigger_config=None, name="Pay per lead", **settings
) -> Workflow:
    """A published workflow with one version, as the builder's Publish toggle makes it."""
    definition = {"trigger": {"type": trigger, "config": trigger_config or {}}, "steps": steps}
    workflow = Workflow.objects.create(
        workspace=workspace, name=name, status="published", definition=definition, **settings
    )
    version = WorkflowVersion.objects.create(
        workflow=workflow,
        number=1,
        definition=definition,
        trigger_type=trigger,
        settings={
            "max_amount_per_charge": workflow.max_amount_per_charge,
            "max_amount_per_day": workflow.max_amount_per_day,
            "safety_currency": workflow.safety_currency,
            "allow_reentry": workflow.allow_reentry,
        },
    )
    workflow.published_version = version
    workflow.save()
    return workflow


def charge_step(connection, *, amount=4999, currency="usd", key="charge", **config) -> dict:
    return {
        "key": key,
        "type": "stripe_one_time_charge",
        "name": "Charge the lead fee",
        "config": {
            "connection": str(connection.uuid),
            "customer_id": "{{ contact.stripe_customer_id }}",
            "description": "Lead fee for {{ contact.name }}",
            "amount": amount,
            "currency": currency,
            **config,
        },
    }


@pytest.fixture
def trigger_run(django_capture_on_commit_callbacks):
    """`trigger_run(workspace, contact=..., trigger=...)`: fire the manual trigger; the run
    executes (django-q2 sync mode) when the transaction commits; returns the run."""

    def fire(workspace, *, contact=None, trigger=None, trigger_type="manual", cause="test:1"):
        with django_capture_on_commit_callbacks(execute=True):
            runs = runs_start_for_trigger(
                workspace=workspace,
                trigger_type=trigger_type,
                trigger=trigger or {"type": trigger_type},
                cause=cause,
                contact=contact,
            )
        assert len(runs) == 1, runs
        return Run.objects.get(pk=runs[0].pk)

    return fire
