"""The Wait action: a run waits for a duration or until a time from a variable, in the
workspace's zone, holding no worker; a time already past goes on at once.

Time is moved with time-machine, the worker is django-q2's sync mode; a real worker stopped
and restarted during a wait is at the end of this file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django_q.models import Schedule

from automation.actions.wait import ConfigForm
from automation.engine import run_execute
from automation.models import Calendar, Run
from automation.services.runs import run_cancel, runs_resume_stale

START = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)


def _wait(**config) -> dict:
    config = {"mode": "duration", "length": 2, "unit": "hours", "direction": "before",
              "until": "", "time_zone": "UTC", **config}  # fmt: skip
    return {"key": "pause", "type": "wait", "name": "Wait", "config": config}


def _email() -> dict:
    config = {"to": "{{ contact.email }}", "subject": "See you", "body": "Soon"}
    return {"key": "remind", "type": "send_email", "name": "Reminder", "config": config}


@pytest.fixture
def fire(workspace, contact, trigger_run):
    def fire(steps, trigger=None):
        from tests.automation.conftest import publish

        publish(workspace, steps)
        return trigger_run(workspace, contact=contact, trigger=trigger)

    return fire


def _sweep(capture) -> int:
    with capture(execute=True):
        return runs_resume_stale()


def test_a_run_waits_for_a_duration_holding_nothing_then_goes_on(
    fire, django_capture_on_commit_callbacks
):
    with time_machine.travel(START, tick=False):
        run = fire([_wait(), _email()])
        assert run.status == "waiting"
        assert run.resume_at == START + timedelta(hours=2) and run.claimed_at is None
        assert run.steps.get().status == "waiting" and mail.outbox == []
        wake = Schedule.objects.get(name=f"Resume workflow run {run.uuid}")
        assert wake.next_run == run.resume_at
    with time_machine.travel(START + timedelta(hours=1, minutes=59), tick=False):
        run_execute(run_pk=run.pk)  # early: left waiting
        assert _sweep(django_capture_on_commit_callbacks) == 0
    assert Run.objects.get(pk=run.pk).status == "waiting" and mail.outbox == []
    with time_machine.travel(START + timedelta(hours=2, seconds=5), tick=False):
        assert _sweep(django_capture_on_commit_callbacks) == 1
    run.refresh_from_db()
    assert run.status == "succeeded" and len(mail.outbox) == 1
    pause = run.steps.get(step_key="pause")
    assert pause.attempts == 1 and pause.outputs["until"] == "2030-03-04T11:00:00+00:00"


def test_it_waits_until_24_hours_before_the_appointment(fire):
    starts = datetime(2030, 3, 10, 15, 30, tzinfo=UTC)
    wait = _wait(mode="until", length=24, unit="hours", direction="before",
                 until="{{ trigger.appointment.starts_at }}")  # fmt: skip
    with time_machine.travel(START, tick=False):
        run = fire(
            [wait, _email()],
            trigger={"type": "manual", "appointment": {"starts_at": starts.isoformat()}},
        )
    assert run.status == "waiting" and run.resume_at == starts - timedelta(hours=24)


def test_a_time_already_past_goes_on_at_once(fire):
    soon = START + timedelta(hours=3)
    wait = _wait(mode="until", length=24, unit="hours", until="{{ trigger.appointment.starts_at }}")
    with time_machine.travel(START, tick=False):
        run = fire(
            [wait, _email()],
            trigger={"type": "manual", "appointment": {"starts_at": soon.isoformat()}},
        )
    assert run.status == "succeeded" and len(mail.outbox) == 1


def test_a_time_without_a_zone_is_read_in_the_workspace_zone(fire):
    wait = _wait(mode="until", length=0, until="{{ trigger.when }}", time_zone="America/New_York")
    with time_machine.travel(START, tick=False):
        run = fire([wait], trigger={"type": "manual", "when": "2030-03-20 09:00"})
    # 9:00 in New York on 20 March 2030 (daylight time, UTC-4) is 13:00 UTC.
    assert run.resume_at == datetime(2030, 3, 20, 13, 0, tzinfo=UTC)


def test_days_are_counted_on_the_zone_s_clock_across_a_daylight_saving_change(fire):
    wait = _wait(length=1, unit="days", time_zone="America/New_York")
    saturday_9am_ny = datetime(2030, 3, 9, 14, 0, tzinfo=UTC)  # EST, UTC-5
    with time_machine.travel(saturday_9am_ny, tick=False):
        run = fire([wait])
    # Sunday 10 March is the change: 9:00 the next day is 13:00 UTC, 23 hours later.
    assert run.resume_at == datetime(2030, 3, 10, 13, 0, tzinfo=UTC)


def test_an_unreadable_time_fails_the_run_saying_so(fire):
    run = fire([_wait(mode="until", until="{{ trigger.when }}")],
               trigger={"type": "manual", "when": "next tuesday"})  # fmt: skip
    assert run.status == "failed" and run.error_code == "VALIDATION_ERROR"
    assert "'next tuesday' is not a date and time" in run.error_message


def test_a_cancelled_waiting_run_never_executes_another_step(
    fire, django_capture_on_commit_callbacks
):
    with time_machine.travel(START, tick=False):
        run = fire([_wait(), _email()])
    assert run_cancel(run=run) is True
    with time_machine.travel(START + timedelta(days=1), tick=False):
        assert _sweep(django_capture_on_commit_callbacks) == 0
        run_execute(run_pk=run.pk)
    run.refresh_from_db()
    assert run.status == "cancelled" and mail.outbox == []
    assert run.steps.get().status == "cancelled"


def test_the_form_needs_the_variable_and_offers_the_workspace_zone(workspace):
    Calendar.objects.create(workspace=workspace, name="Clinic", slug="clinic-w",
                            time_zone="Europe/Paris")  # fmt: skip
    assert ConfigForm(workspace=workspace).fields["time_zone"].initial == "Europe/Paris"
    form = ConfigForm(data={"mode": "until", "length": "24", "unit": "hours",
                            "direction": "before", "until": "", "time_zone": "UTC"},
                      workspace=workspace)  # fmt: skip
    assert not form.is_valid()
    assert form.errors["until"] == ["Choose the variable that holds the time to wait for."]
    form = ConfigForm(data={"mode": "duration", "length": "-1", "unit": "hours",
                            "time_zone": "UTC"}, workspace=workspace)  # fmt: skip
    assert not form.is_valid() and "length" in form.errors


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_run_waits_across_a_stopped_and_restarted_qcluster(sandbox, workspace, monkeypatch):
    """The worker that set the run aside is killed; nothing runs it meanwhile; a new cluster,
    started after the time, resumes it from the schedule in the database."""
    import time
    import uuid as uuid_module

    from django.utils import timezone as django_timezone
    from django_q.conf import Conf

    from automation.services.runs import runs_start_for_trigger
    from tests.automation.conftest import publish
    from tests.automation.test_worker import Worker
    from tests.automation.test_worker import _wait as wait_for
    from tests.factories import ContactFactory

    contact = ContactFactory(workspace=workspace, email="jane@example.com")
    note = {"key": "note", "type": "update_contact", "name": "Note",
            "config": {"field": "custom.reminded", "value": "yes"}}  # fmt: skip
    publish(workspace, [_wait(mode="until", length=0, until="{{ trigger.when }}"), note])
    queue = f"wait-{uuid_module.uuid4().hex[:8]}"
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(Conf, "CLUSTER_NAME", queue)
    when = django_timezone.now() + timedelta(seconds=8)
    first = Worker(sandbox.url, queue).start()
    try:
        (run,) = runs_start_for_trigger(
            workspace=workspace, trigger_type="manual", cause="w:1", contact=contact,
            trigger={"type": "manual", "when": when.isoformat()},
        )  # fmt: skip
        wait_for(lambda: Run.objects.get(pk=run.pk).status == "waiting", 60, "the run to wait")
    finally:
        first.kill()
    time.sleep(max((when - django_timezone.now()).total_seconds(), 0) + 1)
    assert Run.objects.get(pk=run.pk).status == "waiting"  # no process held or ran it
    second = Worker(sandbox.url, queue).start()
    try:
        # django-q2's scheduler looks at due schedules every 30 s.
        wait_for(lambda: Run.objects.get(pk=run.pk).status == "succeeded", 90, "the run to resume")
    finally:
        second.kill()
    contact.refresh_from_db()
    assert contact.custom_fields["reminded"] == "yes"
    assert Run.objects.get(pk=run.pk).steps.get(step_key="pause").attempts == 1


def test_the_workspaces_own_zone_wins_over_its_calendars(workspace):
    Calendar.objects.create(workspace=workspace, name="Clinic", slug="clinic-z",
                            time_zone="Europe/Paris")  # fmt: skip
    workspace.time_zone = "America/Chicago"
    workspace.save()

    assert ConfigForm(workspace=workspace).fields["time_zone"].initial == "America/Chicago"
