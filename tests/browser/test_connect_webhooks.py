"""In Chromium: a charge on an account connected through Connect OAuth reaches the platform's
Connect endpoint, runs the workspace's Stripe charge-event workflow, and staff see the run
succeeded in its enrollment history."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.integrations import test_connect_webhooks as hooks
from tests.integrations.test_connect_webhooks import (
    charge,
    charge_workflow,
    oauth_connect,
    wait_for_runs,
)

platform, connect_endpoint = hooks.platform, hooks.connect_endpoint  # the fixtures


def test_staff_sees_the_run_a_connected_accounts_charge_started(
    live_server, page, login, screenshot, sandbox, platform, connect_endpoint, workspace, staff
):
    connection = oauth_connect(sandbox, workspace, "Acme Dental Connected")
    workflow = charge_workflow(workspace, connection, name="Thank big spenders")
    login(page, staff)
    page.goto(f"{live_server.url}/w/{workspace.slug}/")
    page.get_by_role("navigation", name="Workspace").get_by_role("link", name="Workflows").click()
    page.get_by_role("link", name="Thank big spenders").click()
    page.get_by_role("link", name="Enrollment history").click()
    expect(page.get_by_text("No runs yet.")).to_be_visible()

    charge(sandbox, platform, connection)
    [run] = wait_for_runs(1)
    assert run.workflow == workflow
    sandbox.control.deliveries(wait=5)  # the charge's other events done before the test ends

    page.reload()
    expect(page).to_have_url(re.compile(rf"/workflows/{workflow.uuid}/runs/$"))
    row = page.locator("#run-results tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator(".wf-status")).to_have_text("Succeeded")
    expect(row).to_contain_text("v1")
    screenshot("connect-webhook-run-succeeded")
