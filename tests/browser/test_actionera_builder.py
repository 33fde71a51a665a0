"""The Actionera journey in Chromium: build and publish the pay-per-lead workflow with the
builder and its variable picker (the client's customer ID pasted, the lead's value as the
amount, which needs the workflow's limits before it can be published), submit the public
form as a lead, and find the run in the enrollment history; the client's charge lands in the
Stripe sandbox."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from automation.models import Workflow
from tests.automation.factories import FormFactory


def test_owner_builds_and_publishes_the_charge_workflow_and_a_lead_is_charged(
    live_server, page, login, screenshot, workspace, owner, connection, contact, stripe_client
):
    FormFactory(workspace=workspace, name="Lead form", slug="lead-form")

    # --- the owner builds the workflow
    login(page, owner)
    page.goto(f"{live_server.url}/w/{workspace.slug}/")
    page.get_by_role("navigation", name="Workspace").get_by_role("link", name="Workflows").click()
    expect(page.get_by_role("heading", name="Workflows")).to_be_visible()
    page.get_by_role("link", name="Create workflow").click()
    page.get_by_label("Workflow name").fill("Pay per lead")
    page.get_by_role("button", name="Create workflow").click()
    expect(page.get_by_role("heading", name="Pay per lead", level=1)).to_be_visible()
    expect(page.get_by_role("switch", name="Publish")).to_have_attribute("aria-checked", "false")

    builder = page.locator("#wf-builder")  # what htmx swaps; its notice says what was saved
    flow = page.get_by_role("region", name="Trigger and actions")
    panel = page.get_by_role("complementary", name="Settings")

    # Trigger: Form submitted, filtered on Lead form.
    flow.get_by_role("link", name=re.compile("Add New Trigger")).click()
    expect(panel.get_by_role("heading", name="Add New Trigger")).to_be_visible()
    panel.get_by_role("link", name="Form submitted").click()
    expect(panel.get_by_role("heading", name="Form submitted")).to_be_visible()
    panel.get_by_role("checkbox", name="Lead form").check()
    panel.get_by_role("button", name="Save trigger").click()
    expect(builder.get_by_role("status")).to_have_text("Trigger saved: Form submitted.")
    expect(flow).to_contain_text("Form submitted: Lead form")

    # Action: found by searching, then renamed and set up with the variable picker.
    flow.get_by_role("link", name="Add an action here").click()
    expect(panel.get_by_role("heading", name="Add action")).to_be_visible()
    panel.get_by_role("searchbox", name="Search actions").fill("one-time charge")
    charge = panel.get_by_role("button", name=re.compile("^Stripe one-time charge"))
    expect(charge).to_be_visible()
    expect(panel.get_by_role("button", name=re.compile("^Stripe refund"))).to_be_hidden()
    charge.click()
    expect(builder.get_by_role("status")).to_have_text("Stripe one-time charge added.")
    expect(panel.get_by_role("heading", name="Stripe one-time charge")).to_be_visible()

    panel.get_by_label("Action name").fill("Charge the lead fee")
    # The payer is the agency's client: its customer ID is pasted from Stripe.
    customer_id = panel.get_by_role("textbox", name="Customer ID")
    customer_id.fill(contact.stripe_customer_id)
    panel.get_by_role("textbox", name="Description").fill("Lead fee for Lead form")
    panel.get_by_label("Insert a variable into Amount").click()
    lead_value = panel.get_by_role("button", name=re.compile(r"trigger\.fields\.lead_value"))
    expect(lead_value).to_be_visible()
    screenshot("actionera-builder-picker")
    lead_value.click()
    amount = panel.get_by_role("textbox", name="Amount")
    expect(amount).to_have_value("{{ trigger.fields.lead_value }}")
    panel.get_by_label("Currency").select_option(label="USD")
    panel.get_by_role("button", name="Save").click()
    expect(builder.get_by_role("status")).to_have_text("Saved Charge the lead fee.")
    expect(flow).to_contain_text("Charge the lead fee")
    expect(flow.get_by_text("Needs setup")).to_have_count(0)
    # The amount is what a visitor typed: the step says it needs limits, and why.
    expect(flow.get_by_text("Needs limits")).to_be_visible()
    expect(flow.get_by_role("note")).to_contain_text("Its amount comes from what a visitor typed")
    screenshot("actionera-builder-needs-limits")
    page.get_by_role("switch", name="Publish").click()
    expect(page.get_by_text(re.compile("Not published.*maximum per charge"))).to_be_visible()
    expect(page.get_by_role("switch", name="Publish")).to_have_attribute("aria-checked", "false")

    page.get_by_role("navigation", name="Workflow").get_by_role("link", name="Settings").click()
    page.get_by_label("Largest single charge").fill("100.00")
    page.get_by_label("Most charged per day").fill("500.00")
    page.get_by_role("button", name="Save settings").click()
    expect(flow.get_by_text("Needs limits")).to_have_count(0)

    page.get_by_role("switch", name="Publish").click()
    expect(page.get_by_text("Published as version 1: it is live.")).to_be_visible()
    expect(page.get_by_role("switch", name="Publish")).to_have_attribute("aria-checked", "true")
    screenshot("actionera-builder-published")

    workflow = Workflow.objects.get(workspace=workspace)
    (step,) = workflow.published_version.definition["steps"]
    assert step["name"] == "Charge the lead fee"
    assert step["config"]["customer_id"] == contact.stripe_customer_id
    assert step["config"]["amount"] == "{{ trigger.fields.lead_value }}"
    assert step["config"]["currency"] == "usd"
    assert workflow.published_version.settings["max_amount_per_day"] == 50000

    # --- a lead submits the public form (another browser context, no login)
    customer = page.context.browser.new_context(locale="en-US")
    try:
        form_page = customer.new_page()
        form_page.goto(f"{live_server.url}/f/lead-form/")
        expect(form_page.get_by_role("heading", name="Lead form")).to_be_visible()
        form_page.get_by_label("Name").fill("Lee Lead")
        form_page.get_by_label("E-mail").fill("lee@example.com")
        form_page.get_by_label("Lead value").fill("75")
        form_page.get_by_role("button", name="Send").click()
        expect(form_page.get_by_role("status")).to_have_text("Thank you, we received your answers.")
    finally:
        customer.close()

    # --- the owner finds the run in the enrollment history
    page.get_by_role("navigation", name="Workflow").get_by_role(
        "link", name="Enrollment history"
    ).click()
    row = page.get_by_role("row").filter(has_text="lee@example.com")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Succeeded")
    row.get_by_role("link").first.click()  # the run's time (the contact's name follows)
    live = page.locator("#run-live")
    expect(live.get_by_role("heading", level=2).first).to_contain_text("Succeeded")
    expect(live).to_contain_text("Charge the lead fee")
    expect(live.get_by_text(re.compile(r"^pi_\w+$")).first).to_be_visible()
    screenshot("actionera-run")

    run = workflow.runs.get()
    assert run.status == "succeeded", run.error_message
    (intent,) = stripe_client.v1.payment_intents.list().data
    assert (intent.amount, intent.currency, intent.customer) == (
        7500,
        "usd",
        contact.stripe_customer_id,
    )
    assert intent.description == "Lead fee for Lead form"
    expect(live.get_by_text(intent.id, exact=True).first).to_be_visible()
