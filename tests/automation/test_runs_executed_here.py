"""A Stripe event's runs whose steps call nothing outside (filters, branches, contact fields)
are finished while the event is processed, in its transaction; the others are queued."""

from __future__ import annotations

import pytest
from django.utils import timezone

from automation import engine
from automation.models import Run, StepRun
from automation.services import runs as runs_service
from integrations.events import event_process, event_replay
from integrations.models import StripeEvent, WebhookEndpoint
from portal.models import Contact, Workspace
from tests.automation.conftest import charge_step, publish
from tests.factories import StripeConnectionFactory


@pytest.fixture
def connection(workspace):
    return StripeConnectionFactory(workspace=workspace)


@pytest.fixture
def queued(monkeypatch) -> list[int]:
    """Runs handed to a worker, by id (not executed)."""
    handed: list[int] = []
    monkeypatch.setattr(runs_service, "run_enqueue", lambda run: handed.append(run.pk))
    return handed


def _filter(key="only", right="payment_intent.succeeded") -> dict:
    condition = {"left": "{{ trigger.type }}", "operator": "equals", "right": right}
    return {"key": key, "type": "filter", "name": "Succeeded only", "config": condition}


def _payment_workflow(workspace, connection, steps, name="Payments"):
    return publish(workspace, steps, trigger="stripe_payment_event",
                   trigger_config={"connection": str(connection.uuid)}, name=name)  # fmt: skip


def _event(connection, event_id="evt_1", type="payment_intent.succeeded", customer=None):
    endpoint = WebhookEndpoint.objects.get_or_create(connection=connection, trigger_key="")[0]
    obj = {"id": f"pi_{event_id}", "object": "payment_intent", "amount": 2500,
           "currency": "usd", "customer": customer}  # fmt: skip
    event = StripeEvent.objects.create(
        endpoint=endpoint, event_id=event_id, type=type, created=timezone.now(),
        payload={"id": event_id, "object": "event", "type": type, "data": {"object": obj}},
    )  # fmt: skip
    event_process(event_pk=event.pk)
    event.refresh_from_db()
    return event


def test_a_filter_only_run_is_finished_with_its_event_and_never_queued(
    workspace, connection, queued
):
    workflow = _payment_workflow(workspace, connection, [_filter()])
    event = _event(connection)
    assert event.status == "processed"
    run = Run.objects.get(workflow=workflow)
    assert (run.status, run.cause) == ("succeeded", "stripe_event:evt_1")
    assert run.started_at and run.finished_at and run.claimed_at
    step = run.steps.get()
    assert (step.status, step.attempts, step.outputs) == ("succeeded", 1, {"passed": True})
    assert step.inputs["left"] == "payment_intent.succeeded"
    assert step.started_at and step.finished_at
    assert queued == []


def test_a_filter_that_does_not_hold_stops_the_run_there(workspace, connection, queued):
    workflow = _payment_workflow(workspace, connection, [_filter(right="charge.refunded")])
    _event(connection)
    run = Run.objects.get(workflow=workflow)
    assert run.status == "stopped"
    assert "does not hold" in run.error_message
    assert run.steps.get().status == "stopped"
    assert queued == []


def test_a_branch_and_a_contact_field_are_executed_here_too(workspace, connection, queued):
    contact = Contact.objects.create(workspace=workspace, name="Ada", email="ada@example.com",
                                     stripe_customer_id="cus_ada")  # fmt: skip
    tag = {"key": "tag", "type": "update_contact", "name": "Tag",
           "config": {"field": "custom.status", "value": "paid"}}  # fmt: skip
    branch = {"key": "big", "type": "if_else", "name": "Big?",
              "config": {"left": "{{ trigger.data.object.amount }}", "operator": "greater_than",
                         "right": "1000"},
              "then": [tag], "else": []}  # fmt: skip
    workflow = _payment_workflow(workspace, connection, [_filter(), branch])
    _event(connection, customer="cus_ada")
    run = Run.objects.get(workflow=workflow)
    assert run.status == "succeeded" and run.contact == contact
    assert list(run.steps.order_by("position").values_list("step_key", "status")) == [
        ("only", "succeeded"), ("big", "succeeded"), ("tag", "succeeded"),
    ]  # fmt: skip
    contact.refresh_from_db()
    assert contact.custom_fields["status"] == "paid"
    assert queued == []


def test_a_run_that_calls_stripe_is_queued_for_a_worker_as_before(workspace, connection, queued):
    local = _payment_workflow(workspace, connection, [_filter()], name="Local")
    charging = _payment_workflow(
        workspace, connection, [_filter(), charge_step(connection)], name="Charging"
    )
    _event(connection)
    assert Run.objects.get(workflow=local).status == "succeeded"
    run = Run.objects.get(workflow=charging)
    assert run.status == "queued" and not run.steps.exists()
    assert queued == [run.pk]


def test_a_crash_while_executing_leaves_no_run_and_the_event_replayable(
    workspace, connection, queued, monkeypatch, django_capture_on_commit_callbacks
):
    workflow = _payment_workflow(workspace, connection, [_filter()])
    real = engine._record

    def broken(row, status, **kwargs):
        raise RuntimeError("a bug after the step ran")

    monkeypatch.setattr(engine, "_record", broken)
    event = _event(connection)
    assert event.status == "failed" and "a bug after the step ran" in event.error
    assert not Run.objects.exists() and not StepRun.objects.exists()

    monkeypatch.setattr(engine, "_record", real)
    with django_capture_on_commit_callbacks(execute=True):
        event_replay(event=event)  # the drain runs at once (django-q2 is in sync mode here)
    event.refresh_from_db()
    assert event.status == "processed"
    assert Run.objects.get(workflow=workflow).status == "succeeded"
    assert StepRun.objects.count() == 1


def test_a_workflow_published_after_the_triggers_were_read_starts_runs_at_once(
    workspace, connection, queued
):
    _event(connection, "evt_before")  # reads (and keeps) the workspace's triggers: none
    assert not Run.objects.exists()
    workflow = _payment_workflow(workspace, connection, [_filter()])
    _event(connection, "evt_after")
    assert Run.objects.get(workflow=workflow).cause == "stripe_event:evt_after"


def test_another_process_publishing_is_seen_through_the_workspace_stamp(
    workspace, connection, queued
):
    """A worker's list of triggers read before another process published is not used once the
    workspace row it reads with the next event says the workflows changed."""
    workflow = _payment_workflow(workspace, connection, [_filter()])
    stamp = Workspace.objects.get(pk=workspace.pk).workflows_changed
    runs_service._published_cache[workspace.pk] = (stamp - 1, [])  # stale: before the publish
    _event(connection, "evt_fresh")
    assert Run.objects.filter(workflow=workflow).count() == 1

    runs_service._published_cache[workspace.pk] = (stamp, [])  # as if nothing were published
    _event(connection, "evt_same_stamp")  # the stamp is unchanged: the kept list is used
    assert Run.objects.filter(workflow=workflow).count() == 1
