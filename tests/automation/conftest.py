"""Workflows against the sandbox: a connected workspace, a contact with a saved card, and a
way to publish a workflow and run it the way a trigger would."""

from __future__ import annotations

import pytest

from automation.models import Run, Workflow, WorkflowVersion
from automation.services.runs import runs_start_for_trigger
from integrations.services import connection_create_from_key
from tests.factories import ContactFactory


@pytest.fixture
def connection(sandbox, workspace):
    secret, publishable, _ = sandbox.new_account(name="Acme Dental", country="US")
    return connection_create_from_key(
        workspace=workspace, secret_key=secret, publishable_key=publishable
    )


@pytest.fixture
def stripe_client(sandbox, connection):
    return sandbox.client(connection.secret_key)


def saved_customer(stripe_client, card: str = "pm_card_visa", email="jane@example.com") -> str:
    """A Stripe customer whose default payment method is `card` (a pm_card_* id or a number)."""
    customer = stripe_client.v1.customers.create(params={"email": email, "name": "Jane Cooper"})
    if card.startswith("pm_"):
        method = stripe_client.v1.payment_methods.attach(card, params={"customer": customer.id})
    else:
        method = stripe_client.v1.payment_methods.create(
            params={
                "type": "card",
                "card": {"number": card, "exp_month": 12, "exp_year": 2034, "cvc": "123"},
            }
        )
        stripe_client.v1.payment_methods.attach(method.id, params={"customer": customer.id})
    stripe_client.v1.customers.update(
        customer.id, params={"invoice_settings": {"default_payment_method": method.id}}
    )
    return customer.id


@pytest.fixture
def contact(workspace, stripe_client):
    return ContactFactory(
        workspace=workspace,
        name="Jane Cooper",
        email="jane@example.com",
        stripe_customer_id=saved_customer(stripe_client),
        custom_fields={"lead_value": "150"},
    )


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
