"""Stripe events are processed by drain tasks: one task for a burst, batches per transaction,
each event exactly once, and nothing waits for ever when a task is lost."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connections, transaction
from django.utils import timezone
from django_q.models import OrmQ

from integrations import events as events_module
from integrations.events import event_receive, events_drain, events_resume_lost
from integrations.hooks import stripe_event
from integrations.models import EventDrainRequest, StripeEvent, WebhookEndpoint
from tests.factories import StripeConnectionFactory
from tests.integrations import recorder
from tests.integrations.webhook_helpers import event_body, signature

SECRET = "whsec_test_drain_secret"


@pytest.fixture(autouse=True)
def subscriber(monkeypatch):
    monkeypatch.setattr(stripe_event, "_receivers", {"ledger": recorder.record})
    recorder.received.clear()
    recorder.fail_next.clear()


@pytest.fixture
def endpoint(workspace):
    connection = StripeConnectionFactory(workspace=workspace)
    return WebhookEndpoint.objects.create(connection=connection, secret=SECRET)


@pytest.fixture
def tasks(monkeypatch) -> list[str]:
    """The tasks enqueued (by name), instead of running them."""
    queued: list[str] = []
    monkeypatch.setattr(events_module, "async_task", lambda name, *a, **k: queued.append(name))
    return queued


def deliver(endpoint, event_id: str, capture) -> bool:
    body = event_body(event_id)
    with capture(execute=True):
        return event_receive(endpoint=endpoint, payload=body, signature=signature(body, SECRET))


def test_a_burst_of_deliveries_queues_one_task_which_processes_them_all(
    endpoint, tasks, django_capture_on_commit_callbacks
):
    for n in range(5):
        assert deliver(endpoint, f"evt_burst_{n}", django_capture_on_commit_callbacks)
    assert tasks == ["integrations.tasks.drain_events"]
    assert StripeEvent.objects.filter(status="received").count() == 5

    assert events_drain() == 5
    assert sorted(recorder.received) == [f"evt_burst_{n}" for n in range(5)]
    assert set(StripeEvent.objects.values_list("status", flat=True)) == {"processed"}
    assert not EventDrainRequest.objects.exists()

    deliver(endpoint, "evt_after", django_capture_on_commit_callbacks)  # the drain has started:
    assert tasks == ["integrations.tasks.drain_events"] * 2  # the next event asks again


def test_with_the_orm_broker_the_event_and_its_task_commit_together_or_not_at_all(
    endpoint, monkeypatch
):
    """The queue is a table of the same database: a delivery whose transaction rolls back
    leaves no task behind, one that commits leaves exactly its task."""
    monkeypatch.setattr(events_module.Conf, "ORM", "default")
    monkeypatch.setattr(events_module.Conf, "SYNC", False)
    monkeypatch.setattr(events_module.Conf, "BROKER_CLASS", None)  # the Redis set-up's
    before = OrmQ.objects.count()
    body = event_body("evt_rolled_back")
    with pytest.raises(RuntimeError), transaction.atomic():
        event_receive(endpoint=endpoint, payload=body, signature=signature(body, SECRET))
        assert OrmQ.objects.count() == before + 1  # written inside the transaction
        raise RuntimeError("the request failed after storing")
    assert OrmQ.objects.count() == before
    assert not StripeEvent.objects.exists() and not EventDrainRequest.objects.exists()

    body = event_body("evt_kept")
    event_receive(endpoint=endpoint, payload=body, signature=signature(body, SECRET))
    assert OrmQ.objects.count() == before + 1
    assert OrmQ.objects.latest("id").func() == "integrations.tasks.drain_events"


def test_a_failing_receiver_fails_its_own_event_only(
    endpoint, tasks, django_capture_on_commit_callbacks
):
    for n in range(3):
        deliver(endpoint, f"evt_{n}", django_capture_on_commit_callbacks)
    recorder.fail_next.append("evt_1")
    events_drain()
    statuses = dict(StripeEvent.objects.values_list("event_id", "status"))
    assert statuses == {"evt_0": "processed", "evt_1": "failed", "evt_2": "processed"}
    assert "subscriber failed on purpose" in StripeEvent.objects.get(event_id="evt_1").error

    deliver(endpoint, "evt_1", django_capture_on_commit_callbacks)  # Stripe's redelivery
    events_drain()
    assert StripeEvent.objects.get(event_id="evt_1").status == "processed"
    assert sorted(recorder.received) == ["evt_0", "evt_1", "evt_2"]


def test_a_crash_in_the_middle_of_a_batch_leaves_every_event_of_it_waiting(
    endpoint, tasks, monkeypatch, django_capture_on_commit_callbacks
):
    for n in range(3):
        deliver(endpoint, f"evt_{n}", django_capture_on_commit_callbacks)

    def mark_then_die(events):
        for event in events:
            StripeEvent.objects.filter(pk=event.pk).update(status="processed")
        raise SystemExit("the worker was killed")

    monkeypatch.setattr(events_module, "_process", mark_then_die)
    with pytest.raises(SystemExit):
        events_drain()
    assert set(StripeEvent.objects.values_list("status", flat=True)) == {"received"}
    monkeypatch.undo()
    monkeypatch.setattr(stripe_event, "_receivers", {"ledger": recorder.record})
    events_drain()
    assert sorted(recorder.received) == ["evt_0", "evt_1", "evt_2"]


def test_events_whose_task_was_lost_are_drained_by_the_sweep(
    endpoint, tasks, django_capture_on_commit_callbacks
):
    deliver(endpoint, "evt_lost", django_capture_on_commit_callbacks)
    tasks.clear()  # the push to Redis never happened; the request row says a task is queued
    assert events_resume_lost() == 0  # too recent: its task may still come
    StripeEvent.objects.update(received_at=timezone.now() - timedelta(minutes=3))
    assert events_resume_lost() == 1
    assert tasks == ["integrations.tasks.drain_events"]
    assert not EventDrainRequest.objects.exists()  # the next delivery asks for its own task
    events_drain()
    assert recorder.received == ["evt_lost"]
    assert events_resume_lost() == 0


@pytest.mark.django_db(transaction=True)
def test_two_drains_at_once_process_each_event_exactly_once(workspace):
    connection = StripeConnectionFactory(workspace=workspace)
    endpoint = WebhookEndpoint.objects.create(connection=connection, secret=SECRET)
    StripeEvent.objects.bulk_create(
        StripeEvent(endpoint=endpoint, event_id=f"evt_{n:03d}", type="charge.succeeded",
                    created=timezone.now(), payload={"id": f"evt_{n:03d}"})
        for n in range(120)
    )  # fmt: skip
    seen, lock = [], threading.Lock()

    def record(event) -> None:
        with lock:
            seen.append(event.event_id)

    stripe_event._receivers = {"ledger": record}
    errors: list[BaseException] = []

    def drain() -> None:
        try:
            events_drain()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=drain) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert sorted(seen) == [f"evt_{n:03d}" for n in range(120)]
    assert StripeEvent.objects.filter(status="processed").count() == 120
