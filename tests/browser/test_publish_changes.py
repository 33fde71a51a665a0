"""Publishing changes in Chromium: the owner edits a published workflow, the header says
"Unpublished changes" and what differs, "Publish changes" makes version 2 live, the Versions
tab lists both versions with who published them and when (in the viewer's zone), and
restoring version 1 as the draft brings "Unpublished changes" back; nothing goes live."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from automation.models import Workflow
from automation.services import workflows as services
from tests.browser.conftest import NEW_YORK, shot
from tests.factories import StripeConnectionFactory

ZONE = NEW_YORK


def _published_workflow(workspace, owner) -> Workflow:
    connection = StripeConnectionFactory(workspace=workspace)
    workflow = services.workflow_create(workspace=workspace, name="Pay per lead")
    services.trigger_set(workflow=workflow, type="manual", config={})
    step = services.step_add(workflow=workflow, type="stripe_one_time_charge")
    services.step_update(workflow=workflow, key=step["key"], name="Charge the lead fee", config={
        "connection": str(connection.uuid), "customer_id": "cus_client",
        "description": "Lead fee", "amount": 2500, "amount_in_minor_units": False,
        "currency": "usd",
    })  # fmt: skip
    services.workflow_publish(workflow=workflow, actor=owner)
    return Workflow.objects.get(pk=workflow.pk)


def test_owner_publishes_changes_as_version_2_and_restores_version_1_as_draft(
    live_server, zoned_page, login, workspace, owner
):
    page = zoned_page
    workflow = _published_workflow(workspace, owner)
    login(page, owner)
    page.goto(f"{live_server.url}{workflow.get_absolute_url()}")
    header = page.locator("#wf-header")
    expect(header).to_contain_text("Published version 1")
    expect(header).not_to_contain_text("Unpublished changes")
    expect(page.get_by_role("button", name="Publish changes")).to_be_disabled()

    # --- edit the live workflow: the fee goes up
    flow = page.get_by_role("region", name="Trigger and actions")
    panel = page.get_by_role("complementary", name="Settings")
    flow.get_by_role("link", name=re.compile("Charge the lead fee")).click()
    amount = panel.get_by_role("textbox", name="Amount")
    expect(amount).to_have_value("25.00")
    amount.fill("30.00")
    panel.get_by_role("button", name="Save").click()
    expect(page.locator("#wf-builder").get_by_role("status")).to_have_text(
        "Saved Charge the lead fee."
    )
    # The header follows the edit (sent again with htmx's answer).
    changes = page.get_by_role("region", name="Unpublished changes")
    expect(changes).to_be_visible()
    expect(header).to_contain_text("Published version 1 · Unpublished changes")
    expect(changes).to_contain_text("Changed step “Charge the lead fee”")
    expect(changes).to_contain_text("Amount: $25.00 → $30.00")
    expect(changes).to_contain_text("New runs use version 1 until you publish")
    shot(page, "publish-changes-unpublished")
    workflow.refresh_from_db()
    assert workflow.published_version.number == 1  # nothing live changed

    # --- publish the changes: version 2, live at once
    page.get_by_role("button", name="Publish changes").click()
    expect(page.get_by_text("Published version 2: it is live.")).to_be_visible()
    expect(header).to_contain_text("Published version 2")
    expect(header).not_to_contain_text("Unpublished changes")
    expect(page.get_by_role("button", name="Publish changes")).to_be_disabled()
    expect(page.get_by_role("switch", name="Publish")).to_have_attribute("aria-checked", "true")
    shot(page, "publish-changes-published-v2")

    # --- the version history
    page.get_by_role("navigation", name="Workflow").get_by_role("link", name="Versions").click()
    expect(page.get_by_role("link", name="Versions")).to_have_attribute("aria-current", "page")
    v2, v1 = page.locator("#v2"), page.locator("#v1")
    expect(v2).to_contain_text("Live")
    expect(v2).to_contain_text(owner.email)
    expect(v2).to_contain_text("Amount: $25.00 → $30.00")
    expect(v2).to_contain_text(re.compile(r"\b(EST|EDT)\b"))  # the viewer's zone, named
    expect(v1).to_contain_text("First version.")
    expect(v1).to_contain_text(owner.email)
    expect(v1).not_to_contain_text("Live")
    expect(page.get_by_text(f"Times in {ZONE}")).to_be_visible()
    shot(page, "publish-changes-versions")

    # --- restore version 1 as the draft, after confirming
    v1.get_by_role("link", name=re.compile("Restore as draft")).click()
    expect(page.get_by_role("heading", name="Restore version 1 as the draft?")).to_be_visible()
    expect(page.get_by_text("Amount: $30.00 → $25.00")).to_be_visible()
    shot(page, "publish-changes-restore-confirm")
    page.get_by_role("button", name="Restore version 1 as draft").click()
    expect(page.get_by_text("Version 1 restored as the draft.")).to_be_visible()
    expect(header).to_contain_text("Published version 2 · Unpublished changes")
    expect(page.get_by_role("region", name="Unpublished changes")).to_contain_text(
        "Amount: $30.00 → $25.00"
    )
    expect(page.get_by_role("button", name="Publish changes")).to_be_enabled()
    shot(page, "publish-changes-restored")
    workflow.refresh_from_db()
    assert workflow.published_version.number == 2  # restoring put nothing live
    assert workflow.versions.count() == 2
