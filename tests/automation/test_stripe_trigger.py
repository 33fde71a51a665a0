"""A Stripe charge event starts a workflow: webhook -> stored event -> run -> if/else -> charge."""

from __future__ import annotations

import json
import time

import pytest
from django.urls import reverse

from automation.models import Run
from integrations.models import StripeEvent
from integrations.services import webhook_secret_set
from tests.automation.conftest import charge_step, publish
from tests.integrations.webhook_helpers import signature

SECRET = "whsec_chargeEventsSecret01"


@pytest.fixture
def deliver(client, django_capture_on_commit_callbacks):
    def post(endpoint, event: dict):
        body = json.dumps(event).encode()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("stripe_webhook", args=[endpoint.uuid]),
                data=body,
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE=signature(body, SECRET),
            )
        assert response.status_code == 200
        return response

    return post


def _event(event_id, event_type, customer):
    return {
        "id": event_id,
        "object": "event",
        "type": event_type,
        "api_version": "2026-10-28.endive",
        "created": int(time.time()),
        "livemode": False,
        "request": {"id": None},
        "data": {
            "object": {
                "id": "ch_seen",
                "object": "charge",
                "amount": 1000,
                "currency": "usd",
                "customer": customer,
            }
        },
    }


@pytest.fixture
def charge_workflow(workspace, connection):
    branch = {
        "key": "succeeded",
        "type": "if_else",
        "name": "Did it succeed?",
        "config": {"left": "{{ trigger.type }}", "operator": "equals", "right": "charge.succeeded"},
        "then": [charge_step(connection, amount="25.00")],
        "else": [],
    }
    return publish(
        workspace,
        [branch],
        trigger="stripe_charge_event",
        trigger_config={"connection": str(connection.uuid)},
    )


def test_a_charge_succeeded_event_runs_the_then_branch_for_the_events_customer(
    workspace, connection, contact, charge_workflow, deliver, stripe_client
):
    endpoint = webhook_secret_set(connection=connection, secret=SECRET)
    deliver(endpoint, _event("evt_1", "charge.succeeded", contact.stripe_customer_id))
    run = Run.objects.get()
    assert run.status == "succeeded", run.error_message
    assert run.contact == contact and run.trigger["type"] == "charge.succeeded"
    assert run.trigger["data"]["object"]["id"] == "ch_seen"
    assert set(run.trigger) >= {
        "id",
        "type",
        "api_version",
        "created",
        "livemode",
        "data",
        "request",
    }
    charge = run.steps.get(step_key="charge")
    assert charge.outputs["amount"] == 2500
    (intent,) = stripe_client.v1.payment_intents.list().data
    assert intent.customer == contact.stripe_customer_id
    assert StripeEvent.objects.get().status == "processed"


def test_a_charge_failed_event_takes_the_else_branch(
    workspace, connection, contact, charge_workflow, deliver, sandbox
):
    endpoint = webhook_secret_set(connection=connection, secret=SECRET)
    deliver(endpoint, _event("evt_2", "charge.failed", contact.stripe_customer_id))
    run = Run.objects.get()
    assert run.status == "succeeded"
    assert list(run.steps.values_list("step_key", flat=True)) == ["succeeded"]
    assert sandbox.control.requests(path="/v1/payment_intents", method="POST") == []


def test_a_duplicate_delivery_starts_no_second_run(
    workspace, connection, contact, charge_workflow, deliver, stripe_client
):
    endpoint = webhook_secret_set(connection=connection, secret=SECRET)
    for _ in range(3):
        deliver(endpoint, _event("evt_3", "charge.succeeded", contact.stripe_customer_id))
    assert Run.objects.count() == 1
    assert len(stripe_client.v1.payment_intents.list().data) == 1


def test_other_families_do_not_start_a_charge_event_workflow(
    workspace, connection, contact, charge_workflow, deliver
):
    endpoint = webhook_secret_set(connection=connection, secret=SECRET)
    deliver(endpoint, _event("evt_4", "customer.updated", contact.stripe_customer_id))
    deliver(endpoint, _event("evt_5", "payment_intent.succeeded", contact.stripe_customer_id))
    assert not Run.objects.exists()
