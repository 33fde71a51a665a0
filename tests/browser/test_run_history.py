"""Run history in Chromium: the owner, in New York, finds a lead's run in the enrollment
history (its event, contact, the $75.00 it charged), reads the charge step's outputs as a
table with the amount in its currency, opens the raw JSON, and filters the list to failed runs
of the period, which says there are none (a run stopped by a filter is not one)."""

from __future__ import annotations

import re

from django.urls import reverse
from playwright.sync_api import expect

from automation.models import Run
from automation.services.runs import runs_start_for_trigger
from tests.automation.conftest import charge_step, publish
from tests.browser.conftest import NEW_YORK, shot

ZONE = NEW_YORK


def test_the_owner_reads_a_charge_in_its_currency_and_filters_the_history(
    live_server, zoned_page, login, workspace, owner, connection, contact
):
    page = zoned_page
    workflow = publish(workspace, [charge_step(connection, amount=7500)])
    (run,) = runs_start_for_trigger(
        workspace=workspace, trigger_type="manual", trigger={"type": "manual"}, cause="b:1",
        contact=contact,
    )  # fmt: skip
    run.refresh_from_db()
    stopped = Run.objects.create(
        workspace=workspace, workflow=workflow, version=workflow.published_version,
        trigger_type="manual", trigger={"type": "manual"}, cause="s:1", status="stopped",
        error_message="The lead has no e-mail address.",
    )  # fmt: skip
    assert run.status == "succeeded"

    login(page, owner)
    page.goto(live_server.url + reverse("run_list", args=[workspace.slug, workflow.uuid]))
    row = page.locator("tbody tr", has_text="Jane Cooper")
    expect(row).to_contain_text("$75.00")
    expect(row).to_contain_text("Manual (for testing)")
    expect(row).to_contain_text(re.compile(r"\b(EST|EDT)\b"))  # the viewer's zone, named
    expect(page.locator("tbody tr", has_text="Stopped by a filter")).to_have_count(1)
    shot(page, "run-history-list")

    expect(row.get_by_role("link", name="Jane Cooper")).to_be_visible()  # the contact's page
    row.get_by_role("link").first.click()  # its time: the run's page
    outputs = page.locator("table.wf-values", has=page.locator("caption", has_text="Outputs"))
    expect(outputs.locator("tr", has_text="amount").first).to_contain_text(
        "$75.00 7500 in minor units"
    )
    raw = page.locator("details.wf-raw").first
    expect(raw.locator("pre").first).to_be_hidden()
    raw.locator("summary").click()
    expect(raw.locator("pre").first).to_contain_text('"amount": 7500')
    shot(page, "run-history-detail")

    page.go_back()
    page.get_by_label("Status").select_option("failed")  # htmx: the results change in place
    expect(page.locator("#run-results")).to_contain_text("No failed runs.")
    expect(page.get_by_text(stopped.error_message)).to_have_count(0)
    expect(page).to_have_url(re.compile(r"status=failed"))
    page.get_by_label("Status").select_option("stopped")
    expect(page.locator("#run-results")).to_contain_text(stopped.error_message)
    shot(page, "run-history-filtered")
    page.get_by_role("link", name="Clear filters").click()
    expect(page.locator("tbody tr")).to_have_count(2)
