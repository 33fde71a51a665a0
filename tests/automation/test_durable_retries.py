"""A retryable failure (429, 5xx, no answer) sets the run aside until its next attempt instead
of sleeping in the worker: the run holds no claim, a durable schedule wakes it, every attempt
sends the same key and inputs, and after the last one the run fails saying so.

Time is moved with time-machine; the worker is django-q2's sync mode (the real-worker tests are
at the end of this file)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone
from django_q.models import Schedule

from automation.engine import run_execute
from automation.models import Run, StepRun
from automation.services.runs import run_cancel, run_resume_now, runs_resume_stale
from billing.models import Payment
from tests.automation.conftest import charge_step, publish
from tests.factories import ContactFactory

ENGINE = Path(__file__).resolve().parents[2] / "automation" / "engine.py"
START = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)


@pytest.fixture
def backoff(settings):
    settings.WORKFLOW_RETRY_DELAYS = [30, 120, 600, 3600, 21600]
    return settings.WORKFLOW_RETRY_DELAYS


def _intents(stripe_client):
    return stripe_client.v1.payment_intents.list(params={"limit": 100}).data


def _posts(sandbox, run=None):
    posts = sandbox.control.requests(path="/v1/payment_intents", method="POST")
    if run is None:
        return posts
    return [p for p in posts if p["idempotency_key"].startswith(f"run:{run.uuid}")]


def _sweep(capture) -> int:
    """The every-minute sweep, its enqueued runs executed (django-q2 sync mode)."""
    with capture(execute=True):
        return runs_resume_stale()


def test_the_engine_never_sleeps():
    assert not re.search(r"\bsleep\s*\(", ENGINE.read_text())


def test_a_429_sets_the_run_aside_until_its_next_attempt_holding_nothing(
    workspace, connection, contact, stripe_client, trigger_run, sandbox, backoff,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    publish(workspace, [charge_step(connection)])
    sandbox.control.inject_fault(method="POST", path="/v1/payment_intents", kind="429")
    with time_machine.travel(START, tick=False):
        run = trigger_run(workspace, contact=contact)
        assert run.status == "retrying"
        assert run.resume_at == START + timedelta(seconds=30)
        assert run.claimed_at is None  # no worker holds it
        step = run.steps.get()
        assert (step.status, step.error_code, step.attempts) == ("retrying", "RATE_LIMITED", 1)
        wake = Schedule.objects.get(name=f"Resume workflow run {run.uuid}")
        assert wake.schedule_type == Schedule.ONCE and wake.next_run == run.resume_at
        assert wake.func == "automation.tasks.execute_run" and wake.args == repr(run.pk)

        run_execute(run_pk=run.pk)  # delivered early (a duplicate task): not claimed
        assert _sweep(django_capture_on_commit_callbacks) == 0
        assert len(_posts(sandbox)) == 1
    with time_machine.travel(START + timedelta(seconds=31), tick=False):
        run_execute(run_pk=run.pk)  # what the schedule enqueues
    run.refresh_from_db()
    assert run.status == "succeeded" and run.resume_at is None
    posts = _posts(sandbox)
    assert [p["idempotency_key"] for p in posts] == [f"run:{run.uuid}:step:charge"] * 2
    assert posts[0]["params"] == posts[1]["params"]
    assert len(_intents(stripe_client)) == 1


def test_the_sweep_resumes_a_due_run_whose_schedule_was_lost(
    workspace, connection, contact, trigger_run, sandbox, backoff,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    publish(workspace, [charge_step(connection)])
    sandbox.control.inject_fault(method="POST", path="/v1/payment_intents", kind="500")
    with time_machine.travel(START, tick=False):
        run = trigger_run(workspace, contact=contact)
    Schedule.objects.all().delete()
    with time_machine.travel(START + timedelta(seconds=40), tick=False):
        assert _sweep(django_capture_on_commit_callbacks) == 1
    run.refresh_from_db()
    assert run.status == "succeeded"


def test_after_the_last_attempt_the_run_fails_saying_how_long_it_tried(
    workspace, connection, contact, stripe_client, trigger_run, sandbox, backoff, owner,
    as_user, django_capture_on_commit_callbacks,
):  # fmt: skip
    publish(workspace, [charge_step(connection)])
    sandbox.control.inject_fault(method="POST", path="/v1/payment_intents", kind="429", count=99)
    with time_machine.travel(START, tick=False):
        run = trigger_run(workspace, contact=contact)
    at = START
    for delay in backoff:
        at += timedelta(seconds=delay)
        with time_machine.travel(at, tick=False):
            assert _sweep(django_capture_on_commit_callbacks) == 1
    run.refresh_from_db()
    assert run.status == "failed" and run.error_code == "RATE_LIMITED"
    assert run.error_message.startswith(
        "Stripe kept answering 429 (too many requests) after 6 attempts over 7 h 12 min; use "
        "“Retry from the failed step” to try again."
    )
    assert run.steps.get().attempts == 6
    assert len(_posts(sandbox)) == 6 and _intents(stripe_client) == []
    html = as_user(owner).get(run.get_absolute_url()).content.decode()
    assert "after 6 attempts over 7 h 12 min" in html


def test_a_one_hour_outage_ends_with_each_run_charged_once(
    workspace, connection, stripe_client, sandbox, backoff, django_capture_on_commit_callbacks,
    trigger_run,
):  # fmt: skip
    from tests.conftest import saved_customer

    publish(workspace, [charge_step(connection)])
    contacts = [
        ContactFactory(
            workspace=workspace,
            email=f"lead{i}@example.com",
            stripe_customer_id=saved_customer(stripe_client),
        )  # fmt: skip
        for i in range(3)
    ]
    sandbox.control.inject_fault(method="POST", path="/v1/payment_intents", kind="500", count=999)
    with time_machine.travel(START, tick=False):
        runs = [trigger_run(workspace, contact=c, cause=f"lead:{c.pk}") for c in contacts]
    assert {r.status for r in runs} == {"retrying"}
    minute = START
    while minute < START + timedelta(hours=3):
        minute += timedelta(minutes=1)
        if minute >= START + timedelta(hours=1):
            sandbox.control.clear_faults()  # Stripe is back
        with time_machine.travel(minute, tick=False):
            _sweep(django_capture_on_commit_callbacks)
    for run in runs:
        run.refresh_from_db()
        assert run.status == "succeeded", (run.error_code, run.error_message)
        keys = {p["idempotency_key"] for p in _posts(sandbox, run)}
        assert keys == {f"run:{run.uuid}:step:charge"}
        # Attempts at 0 s, 30 s, 2 min 30 s, 12 min 30 s, then 1 h 12 min 30 s: Stripe is back.
        assert run.steps.get().attempts == 5
    intents = _intents(stripe_client)
    assert len(intents) == 3 and {i.customer for i in intents} == {
        c.stripe_customer_id for c in contacts
    }
    assert Payment.objects.filter(status="succeeded").count() == 3


def test_retry_now_attempts_at_once_and_pressing_it_twice_changes_nothing(
    workspace, connection, contact, stripe_client, trigger_run, sandbox, backoff,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    publish(workspace, [charge_step(connection)])
    sandbox.control.inject_fault(method="POST", path="/v1/payment_intents", kind="429")
    run = trigger_run(workspace, contact=contact)
    assert run.status == "retrying"
    with django_capture_on_commit_callbacks(execute=True):
        assert run_resume_now(run=run) is True
    run.refresh_from_db()
    assert run.status == "succeeded"
    with django_capture_on_commit_callbacks(execute=True):
        assert run_resume_now(run=run) is False
    assert len(_posts(sandbox)) == 2 and len(_intents(stripe_client)) == 1


def test_a_cancelled_run_never_attempts_again_and_frees_its_daily_hold(
    workspace, connection, contact, stripe_client, trigger_run, sandbox, backoff,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    publish(workspace, [charge_step(connection)], max_amount_per_day=10_000,
            max_amount_per_charge=5_000)  # fmt: skip
    sandbox.control.inject_fault(method="POST", path="/v1/payment_intents", kind="429")
    run = trigger_run(workspace, contact=contact)
    assert run.steps.get().outputs.get("held_for_daily_maximum")
    assert run_cancel(run=run, by="owner@acme.test") is True
    assert run_cancel(run=run) is False
    run.refresh_from_db()
    assert run.status == "cancelled" and run.error_message == "Cancelled by owner@acme.test."
    assert run.steps.get().status == StepRun.Status.CANCELLED
    assert not Schedule.objects.filter(name__contains=str(run.uuid)).exists()
    with time_machine.travel(timezone.now() + timedelta(hours=8), tick=False):
        assert _sweep(django_capture_on_commit_callbacks) == 0
        run_execute(run_pk=run.pk)
    assert Run.objects.get(pk=run.pk).status == "cancelled"
    assert len(_posts(sandbox)) == 1 and _intents(stripe_client) == []


def test_a_run_cancelled_while_a_step_runs_executes_no_further_step(
    workspace, connection, contact, stripe_client, trigger_run, sandbox, monkeypatch
):
    from automation.actions import update_contact

    execute = update_contact.Action.execute.__func__

    def cancel_meanwhile(cls, inputs, ctx):
        run_cancel(run=ctx.run, by="someone")  # pressed while this step is at work
        return execute(cls, inputs, ctx)

    monkeypatch.setattr(update_contact.Action, "execute", classmethod(cancel_meanwhile))
    note = {"key": "note", "type": "update_contact", "name": "Note",
            "config": {"field": "custom.seen", "value": "yes"}}  # fmt: skip
    publish(workspace, [note, charge_step(connection)])
    run = trigger_run(workspace, contact=contact)
    assert run.status == "cancelled"
    assert list(run.steps.values_list("step_key", flat=True)) == ["note"]
    assert _posts(sandbox) == []


# --- the run page: "Retrying: next attempt at …", Retry now, Cancel run; unpublishing ---------


@pytest.fixture
def retrying(workspace, connection, contact, trigger_run, sandbox, backoff):
    publish(workspace, [charge_step(connection)])
    sandbox.control.inject_fault(method="POST", path="/v1/payment_intents", kind="429")
    run = trigger_run(workspace, contact=contact)
    assert run.status == "retrying"
    return run


def _url(run, name: str) -> str:
    from django.urls import reverse

    return reverse(name, args=[run.workspace.slug, run.workflow.uuid, run.uuid])


def test_the_run_page_shows_the_next_attempt_in_the_viewer_s_zone(retrying, owner, as_user):
    from portal.templatetags.zoned import local

    client = as_user(owner)
    client.cookies["tz"] = "America/New_York"
    html = client.get(retrying.get_absolute_url()).content.decode()
    with timezone.override("America/New_York"):
        shown = local(retrying.resume_at)  # "Jan. 7, 2030, 9:30 a.m. EST"
    assert shown.endswith(("EST", "EDT"))
    assert f"Retrying: next attempt at {shown}." in re.sub(r"<[^>]+>", "", html)
    assert _url(retrying, "run_retry_now") in html and _url(retrying, "run_cancel") in html


def test_retry_now_from_the_page_twice_charges_once(
    retrying, owner, as_user, stripe_client, sandbox, django_capture_on_commit_callbacks
):
    client = as_user(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url(retrying, "run_retry_now"), follow=True)
    assert "Retrying now." in response.content.decode()
    assert Run.objects.get(pk=retrying.pk).status == "succeeded"
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(_url(retrying, "run_retry_now"), follow=True).content.decode()
    assert "not waiting to retry any more" in again
    assert len(_intents(stripe_client)) == 1 and len(_posts(sandbox)) == 2


def test_cancel_run_asks_first_then_cancels(retrying, owner, as_user):
    client = as_user(owner)
    page = client.get(_url(retrying, "run_cancel")).content.decode()
    assert "Cancel this run?" in page and Run.objects.get(pk=retrying.pk).status == "retrying"
    html = client.post(_url(retrying, "run_cancel"), follow=True).content.decode()
    assert "Run cancelled: it executes no other step." in html and "Cancelled" in html
    assert Run.objects.get(pk=retrying.pk).status == "cancelled"
    assert "Retry now" not in html


def test_retry_now_and_cancel_need_workflow_edit_and_the_workspace(
    retrying, viewer, outsider, as_user
):
    for user, status in ((viewer, 403), (outsider, 404)):
        client = as_user(user)
        assert client.post(_url(retrying, "run_retry_now")).status_code == status
        assert client.post(_url(retrying, "run_cancel")).status_code == status
    assert Run.objects.get(pk=retrying.pk).status == "retrying"


@pytest.mark.parametrize("cancel", [False, True])
def test_unpublishing_leaves_waiting_runs_to_finish_unless_asked_to_cancel_them(
    retrying, owner, as_user, cancel
):
    from django.urls import reverse

    workflow = retrying.workflow
    url = reverse("workflow_publish", args=[workflow.workspace.slug, workflow.uuid])
    client = as_user(owner)
    page = client.post(url, {"published": ""}).content.decode()
    assert "Also cancel its 1 waiting run" in page
    workflow.refresh_from_db()
    assert workflow.status == "published"  # not before it is confirmed
    data = {"published": "", "confirmed": "1", **({"cancel_waiting": "on"} if cancel else {})}
    from django.contrib.messages import get_messages

    response = client.post(url, data)
    said = " ".join(str(m) for m in get_messages(response.wsgi_request))
    workflow.refresh_from_db()
    assert workflow.status == "draft"
    expected = "cancelled" if cancel else "retrying"
    assert Run.objects.get(pk=retrying.pk).status == expected
    assert ("Its 1 waiting run cancelled." if cancel else "Its 1 waiting run will finish.") in said


# --- real workers: a run in backoff holds none of them -----------------------------------------


def _create_customer_step(connection) -> dict:
    config = {"connection": str(connection.uuid), "name": "{{ contact.name }}",
              "email": "{{ contact.email }}", "phone": ""}  # fmt: skip
    return {"key": "customer", "type": "stripe_create_customer", "name": "Customer",
            "config": config}  # fmt: skip


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_429_storm_leaves_the_two_workers_free_for_another_workflow(
    sandbox, workspace, monkeypatch, settings
):
    """50 runs of one workflow get 429 after 429; with two worker processes, the runs of
    another workflow finish while the storm lasts (a sleeping retry would hold both), and the
    storm's runs, retried once Stripe is back, each make their customer once."""
    import uuid as uuid_module

    from django_q.conf import Conf

    from automation.services.runs import runs_start_for_trigger
    from integrations.services import connection_create_from_key
    from tests.automation.test_worker import Worker, _wait
    from tests.conftest import saved_customer

    secret, publishable, _ = sandbox.new_account(name="Acme Dental")
    conn = connection_create_from_key(workspace=workspace, secret_key=secret,
                                      publishable_key=publishable)  # fmt: skip
    stripe = sandbox.client(secret)
    payer = ContactFactory(workspace=workspace, stripe_customer_id=saved_customer(stripe))
    storm = publish(workspace, [_create_customer_step(conn)], name="Storm")
    other = publish(workspace, [charge_step(conn)], name="Other")
    leads = [ContactFactory(workspace=workspace, email=f"lead{n}@example.com") for n in range(50)]
    sandbox.control.inject_fault(method="POST", path="/v1/customers", kind="429", count=100_000)
    queue = f"storm-{uuid_module.uuid4().hex[:8]}"
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(Conf, "CLUSTER_NAME", queue)

    def fire(workflow, contact, cause):
        (run,) = runs_start_for_trigger(
            workspace=workspace, trigger_type="manual", trigger={"type": "manual"},
            cause=cause, contact=contact, only_workflow=workflow,
        )  # fmt: skip
        return run

    worker = Worker(sandbox.url, queue, processes=2)
    worker.env["WORKFLOW_RETRY_DELAYS"] = "600,600"
    worker.start()
    try:
        storm_runs = [fire(storm, lead, f"storm:{n}") for n, lead in enumerate(leads)]
        _wait(lambda: Run.objects.filter(workflow=storm, status="retrying").count() >= 10, 60,
              "the storm to begin")  # fmt: skip
        other_runs = [fire(other, payer, f"other:{n}") for n in range(5)]
        _wait(lambda: Run.objects.filter(workflow=other, status="succeeded").count() == 5, 60,
              "the other workflow's runs to finish during the storm")  # fmt: skip
        storm_states = set(Run.objects.filter(workflow=storm).values_list("status", flat=True))
        assert storm_states <= {"queued", "running", "retrying"}  # the storm lasts
        _wait(lambda: Run.objects.filter(workflow=storm, status="retrying").count() == 50, 60,
              "every storm run to be set aside")  # fmt: skip
        assert not Run.objects.filter(workflow=storm, claimed_at__isnull=False).exists()

        sandbox.control.clear_faults()  # Stripe is back; a member presses Retry now
        for run in storm_runs:
            assert run_resume_now(run=run)
        _wait(lambda: Run.objects.filter(workflow=storm, status="succeeded").count() == 50, 90,
              "the storm's runs to finish once Stripe is back")  # fmt: skip
    finally:
        worker.kill()
    assert len(other_runs) == 5
    for run in storm_runs:
        keys = {p["idempotency_key"] for p in
                sandbox.control.requests(path="/v1/customers", method="POST")
                if p["idempotency_key"].startswith(f"run:{run.uuid}")}  # fmt: skip
        assert keys == {f"run:{run.uuid}:step:customer"}
    made = stripe.v1.customers.list(params={"limit": 100}).data
    assert sorted(c.email for c in made if c.email.startswith("lead")) == sorted(
        lead.email for lead in leads
    )
