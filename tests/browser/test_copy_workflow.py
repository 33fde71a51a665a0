"""Copying a workflow between client workspaces in Chromium, and export / import of its file.

The agency owner owns Acme Dental and Bright Smiles, each with its own Stripe account. Acme's
"Pay per lead" charges Acme's client (a cus_ ID of Acme's account) when Acme's lead form is
submitted. Copied to Bright, the copy names neither: Bright's builder says to choose the Stripe
account and the customer, refuses to publish until they are chosen, then publishes.
"""

from __future__ import annotations

import json
import re

from playwright.sync_api import expect

from automation.models import Form, Workflow
from portal import perms
from tests.automation.factories import FormFactory
from tests.factories import (
    MembershipFactory,
    StripeConnectionFactory,
    UserFactory,
    WorkspaceFactory,
)


def _agency():
    owner = UserFactory(username="owner@agency.test")
    acme = WorkspaceFactory(name="Acme Dental", slug="acme-dental")
    bright = WorkspaceFactory(name="Bright Smiles", slug="bright-smiles")
    for workspace in (acme, bright):
        MembershipFactory(user=owner, workspace=workspace, roles=[perms.OWNER])
    acme_account = StripeConnectionFactory(workspace=acme, account_name="Acme Dental")
    StripeConnectionFactory(workspace=bright, account_name="Bright Smiles")
    form = FormFactory(workspace=acme, name="Acme lead form", slug="acme-lead-form")
    workflow = Workflow.objects.create(
        workspace=acme,
        name="Pay per lead",
        max_amount_per_charge=5000,
        max_amount_per_day=50000,
        definition={
            "trigger": {"type": "form_submitted", "config": {"forms": [str(form.uuid)]}},
            "steps": [
                {
                    "key": "charge",
                    "type": "stripe_one_time_charge",
                    "name": "Charge the lead fee",
                    "config": {
                        "connection": str(acme_account.uuid),
                        "customer_id": "cus_AcmeClient42",
                        "description": "Lead fee",
                        "amount": 2500,
                        "currency": "usd",
                        "amount_in_minor_units": False,
                    },
                },
            ],
        },  # fmt: skip
    )
    return owner, acme, bright, workflow


def test_owner_copies_a_workflow_to_another_client_chooses_its_account_and_publishes(
    live_server, page, login, screenshot
):
    owner, acme, bright, workflow = _agency()
    login(page, owner)
    page.goto(f"{live_server.url}{workflow.get_absolute_url()}")
    page.get_by_role("link", name="Copy to another workspace").click()
    expect(
        page.get_by_role("heading", name="Copy Pay per lead to another workspace")
    ).to_be_visible()
    screenshot("copy-workflow-choose")
    page.get_by_role("button", name="Copy workflow").click()
    expect(page.get_by_text("Choose the workspace to copy the workflow to.")).to_be_visible()
    page.get_by_role("radio", name="Bright Smiles").check()
    page.get_by_role("button", name="Copy workflow").click()

    # The copy opens in Bright: a draft that names what to choose.
    expect(page).to_have_url(re.compile(r"/w/bright-smiles/workflows/[0-9a-f-]+/$"))
    expect(page.get_by_role("heading", name="Pay per lead (copy)", level=1)).to_be_visible()
    expect(page.get_by_text(re.compile("Copied Pay per lead from Acme Dental"))).to_be_visible()
    notice = page.locator(".wf-copied")
    expect(notice).to_have_text(
        "Brought from another workspace: choose the Stripe account for step “Charge the lead "
        "fee”; the customer ID of step “Charge the lead fee” was cleared."
    )
    flow = page.get_by_role("region", name="Trigger and actions")
    expect(flow).to_contain_text("Form submitted: Acme lead form")  # the form came along
    expect(flow.get_by_text("Needs setup")).to_be_visible()
    screenshot("copy-workflow-notice")
    copy = Workflow.objects.get(workspace=bright)
    assert Form.objects.get(workspace=bright).slug == "acme-lead-form-2"

    page.get_by_role("switch", name="Publish").click()
    expect(page.get_by_text(re.compile("Not published.*Choose the Stripe account"))).to_be_visible()
    copy.refresh_from_db()
    assert copy.status == "draft"

    # Choose Bright's account and Bright's client, as the notice says.
    flow.get_by_role("link", name=re.compile("Charge the lead fee")).click()
    panel = page.get_by_role("complementary", name="Settings")
    bright_account = bright.stripe_connections.get()
    panel.get_by_label("Integration").select_option(value=str(bright_account.uuid))
    panel.get_by_role("textbox", name="Customer ID").fill("cus_BrightClient7")
    panel.get_by_role("button", name="Save").click()
    expect(page.locator("#wf-builder").get_by_role("status")).to_have_text(
        "Saved Charge the lead fee."
    )
    expect(notice).to_have_count(0)
    page.get_by_role("switch", name="Publish").click()
    expect(page.get_by_text("Published as version 1: it is live.")).to_be_visible()
    screenshot("copy-workflow-published")
    copy.refresh_from_db()
    assert copy.status == "published"
    config = copy.published_version.definition["steps"][0]["config"]
    assert config["connection"] == str(bright_account.uuid)
    assert config["customer_id"] == "cus_BrightClient7"
    workflow.refresh_from_db()  # Acme's is as it was
    assert workflow.definition["steps"][0]["config"]["customer_id"] == "cus_AcmeClient42"


def test_owner_exports_a_workflow_and_imports_the_file_into_another_client(
    live_server, page, login, screenshot, tmp_path
):
    owner, acme, bright, workflow = _agency()
    login(page, owner)
    page.goto(f"{live_server.url}{workflow.get_absolute_url()}")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export").click()
    assert download.value.suggested_filename == "pay-per-lead.workflow.json"
    path = tmp_path / "pay-per-lead.workflow.json"
    download.value.save_as(path)
    text = path.read_text()
    assert json.loads(text)["format"] == "agency-portal.workflow"
    assert "cus_" not in text and "sk_" not in text and "whsec_" not in text

    page.goto(f"{live_server.url}/w/acme-dental/workflows/")
    expect(page.get_by_role("link", name="Copy to…")).to_be_visible()
    screenshot("workflow-list-import-copy")
    page.goto(f"{live_server.url}/w/bright-smiles/workflows/")
    page.get_by_role("link", name="Import").click()
    expect(page.get_by_role("heading", name="Import a workflow")).to_be_visible()
    # A file that is not an export is refused beside the field, and nothing is created.
    page.get_by_label("Workflow file").set_input_files(
        files=[
            {
                "name": "zap.json",
                "mimeType": "application/json",
                "buffer": b'{"format": "zapier.zap", "version": 1}',
            }
        ]  # fmt: skip
    )
    page.get_by_role("button", name="Import workflow").click()
    expect(page.locator(".field.has-error")).to_contain_text(
        "This is not a workflow export: its “format” should be “agency-portal.workflow”."
    )
    screenshot("import-workflow-refused")
    assert not Workflow.objects.filter(workspace=bright).exists()

    page.get_by_label("Workflow file").set_input_files(path)
    page.get_by_role("button", name="Import workflow").click()
    expect(page.get_by_role("heading", name="Pay per lead", level=1)).to_be_visible()
    expect(page.get_by_text("Imported Pay per lead, as a draft.")).to_be_visible()
    expect(page.locator(".wf-copied")).to_contain_text(
        "choose the Stripe account for step “Charge the lead fee”"
    )
    screenshot("import-workflow-done")
    imported = Workflow.objects.get(workspace=bright)
    assert imported.status == "draft"
    assert imported.definition["trigger"]["config"]["forms"] == [
        str(Form.objects.get(workspace=bright).uuid)
    ]
