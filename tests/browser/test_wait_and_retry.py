"""Waits and retries in Chromium: a visitor's submission starts a published workflow whose
Wait step sets the run aside; the owner, in New York, sees "Waiting until <time>" in their zone
and cancels the run. A charge that Stripe answers with 429 shows its next attempt, and
"Retry now" charges at once."""

from __future__ import annotations

from django.utils import timezone
from playwright.sync_api import expect

from automation.models import Run
from automation.services.runs import runs_start_for_trigger
from portal.templatetags.zoned import local
from tests.automation.conftest import charge_step, publish
from tests.automation.factories import FormFactory
from tests.browser.conftest import NEW_YORK, shot

ZONE = NEW_YORK


def _in_zone(moment) -> str:
    """The time as the page shows it to a viewer in ZONE, the zone named ("... 9:30 a.m. EST")."""
    with timezone.override(ZONE):
        return local(moment)


def test_a_submission_waits_two_days_shown_in_the_viewer_s_zone_and_is_cancelled(
    live_server, zoned_page, login, workspace, owner
):
    page = zoned_page
    form = FormFactory(workspace=workspace, name="Consultation", slug="consultation")
    two_days = {"mode": "duration", "length": 2, "unit": "days", "time_zone": ZONE}
    wait = {"key": "pause", "type": "wait", "name": "Wait two days", "config": two_days}
    note = {"key": "note", "type": "update_contact", "name": "Mark followed up",
            "config": {"field": "custom.followed_up", "value": "yes"}}  # fmt: skip
    publish(workspace, [wait, note], trigger="form_submitted", name="Follow up")

    page.goto(f"{live_server.url}/f/{form.slug}/")
    page.get_by_label("Name").fill("Jane Cooper")
    page.get_by_label("E-mail").fill("jane@example.com")
    page.get_by_role("button", name="Send").click()
    run = Run.objects.get()
    assert run.status == "waiting"

    login(page, owner)
    page.goto(f"{live_server.url}{run.get_absolute_url()}")
    expect(page.locator("#run-live")).to_contain_text(f"Waiting until {_in_zone(run.resume_at)}.")
    shot(page, "wait-and-retry-waiting")
    page.get_by_role("link", name="Cancel run").click()
    expect(page.get_by_role("heading", name="Cancel this run?")).to_be_visible()
    page.get_by_role("button", name="Cancel run").click()
    expect(page.get_by_text("Run cancelled: it executes no other step.")).to_be_visible()
    expect(page.locator("#run-live")).to_contain_text("Cancelled")
    expect(page.get_by_role("link", name="Cancel run")).to_have_count(0)
    run.refresh_from_db()
    assert run.status == "cancelled" and run.steps.count() == 1


def test_a_charge_in_backoff_shows_its_next_attempt_and_retry_now_charges_once(
    live_server, zoned_page, login, workspace, owner, connection, contact, stripe_client,
    sandbox, settings,
):  # fmt: skip
    page = zoned_page
    settings.WORKFLOW_RETRY_DELAYS = [600, 3600]
    workflow = publish(workspace, [charge_step(connection)])
    sandbox.control.inject_fault(method="POST", path="/v1/payment_intents", kind="429")
    (run,) = runs_start_for_trigger(
        workspace=workspace, trigger_type="manual", trigger={"type": "manual"}, cause="b:1",
        contact=contact,
    )  # fmt: skip
    run.refresh_from_db()
    assert run.status == "retrying" and run.workflow == workflow

    login(page, owner)
    page.goto(f"{live_server.url}{run.get_absolute_url()}")
    expect(page.locator("#run-live")).to_contain_text(
        f"Retrying: next attempt at {_in_zone(run.resume_at)}."
    )
    shot(page, "wait-and-retry-retrying")
    page.get_by_role("button", name="Retry now").click()
    expect(page.get_by_text("Retrying now.")).to_be_visible()
    expect(page.locator("#run-live")).to_contain_text("Succeeded")
    assert len(stripe_client.v1.payment_intents.list().data) == 1
