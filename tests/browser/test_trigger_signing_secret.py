"""A Stripe trigger on its own webhook endpoint, in Chromium: staff choose "This trigger's own
endpoint", read its URL, paste the secret key by mistake (refused, naming the mix-up), paste
the signing secret, and publish. A delivery signed with that secret to the trigger's URL starts
a run (in the enrollment history); one signed with the connection's secret is refused (400)
and starts nothing."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request

from playwright.sync_api import expect

from automation.models import Run
from automation.services import workflows as services
from integrations.models import StripeEvent, WebhookEndpoint
from integrations.services import webhook_secret_set
from portal import perms
from tests.factories import RoleFactory
from tests.integrations.webhook_helpers import signature

TRIGGER_SECRET = "whsec_journeyTriggerSecret42"
CONNECTION_SECRET = "whsec_journeyConnectionSecret42"


def _deliver(url: str, event_id: str, customer: str, secret: str) -> int:
    """POST a charge.succeeded event to `url` as Stripe does; the HTTP status."""
    body = json.dumps({
        "id": event_id, "object": "event", "type": "charge.succeeded",
        "api_version": "2026-10-28.endive", "created": int(time.time()), "livemode": False,
        "request": {"id": None},
        "data": {"object": {"id": "ch_journey", "object": "charge", "amount": 2500,
                            "currency": "usd", "customer": customer}},
    }).encode()  # fmt: skip
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "Stripe-Signature": signature(body, secret)},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_staff_give_a_stripe_trigger_its_own_endpoint_and_only_its_secret_starts_runs(
    live_server, page, login, screenshot, settings, workspace, staff, connection, contact
):
    settings.SITE_URL = live_server.url
    staff.memberships.get(workspace=workspace).roles.add(
        RoleFactory(workspace=workspace, name="Publisher", permissions=[perms.WORKFLOW_PUBLISH])
    )
    workflow = services.workflow_create(workspace=workspace, name="Charges to CRM")
    step = services.step_add(workflow=workflow, type="filter")
    services.step_update(workflow=workflow, key=step["key"], name="Succeeded charges only",
                         config={"left": "{{ trigger.type }}", "operator": "equals",
                                 "right": "charge.succeeded"})  # fmt: skip
    # The connection's own endpoint has its own secret: the one that must not work below.
    webhook_secret_set(connection=connection, secret=CONNECTION_SECRET)

    login(page, staff)
    page.goto(f"{live_server.url}{workflow.get_absolute_url()}")
    flow = page.get_by_role("region", name="Trigger and actions")
    panel = page.get_by_role("complementary", name="Settings")
    builder = page.locator("#wf-builder")

    flow.get_by_role("link", name=re.compile("Add New Trigger")).click()
    panel.get_by_role("link", name="Stripe charge event").click()
    expect(panel.get_by_role("heading", name="Stripe charge event")).to_be_visible()
    expect(panel).to_contain_text("Paste only the signing secret here.")
    panel.get_by_label("Integration").select_option(label=str(connection))
    panel.get_by_role("radio", name="This trigger's own endpoint").check()
    panel.get_by_role("button", name="Save trigger").click()

    expect(builder.get_by_role("status")).to_contain_text("Trigger saved: Stripe charge event.")
    expect(builder.get_by_role("status")).to_contain_text("no signing secret yet")
    endpoint = WebhookEndpoint.objects.get(trigger_key=f"workflow:{workflow.uuid}")
    url_field = panel.get_by_role("textbox", name="Endpoint URL")
    trigger_url = f"{live_server.url}/hooks/stripe/{endpoint.uuid}/"
    expect(url_field).to_have_value(trigger_url)
    expect(panel.get_by_role("button", name="Copy")).to_be_visible()
    expect(panel).to_contain_text("uses 0 of Stripe's 16 webhook endpoints")  # none registered
    expect(panel.get_by_role("button", name="Register with Stripe")).to_have_count(0)  # stripe=*

    # The secret key pasted by mistake: refused, named, not shown back, nothing saved.
    panel.get_by_role("textbox", name="Signing secret").fill(connection.secret_key)
    panel.get_by_role("button", name="Save trigger").click()
    expect(panel.get_by_text(re.compile(
        r"This is a Stripe secret key \(sk_test_…\), not a webhook signing secret\. "
        r"The signing secret starts with whsec_ and is under Developers → Webhooks"
    ))).to_be_visible()  # fmt: skip
    screenshot("trigger-signing-secret-mixup")
    assert connection.secret_key not in page.content()
    endpoint.refresh_from_db()
    assert not endpoint.has_secret

    panel.get_by_role("textbox", name="Signing secret").fill(TRIGGER_SECRET)
    panel.get_by_role("button", name="Save trigger").click()
    expect(builder.get_by_role("status")).to_contain_text("The signing secret is saved.")
    expect(panel).to_contain_text("whsec_••••••••")
    expect(panel.get_by_text("Replace the signing secret")).to_be_visible()
    assert TRIGGER_SECRET not in page.content()
    screenshot("trigger-signing-secret-saved")
    expect(flow).to_contain_text("Stripe charge event: its own webhook endpoint")

    page.get_by_role("switch", name="Publish").click()
    expect(page.get_by_text("Published as version 1: it is live.")).to_be_visible()

    # Stripe's deliveries: the trigger's secret starts a run; the connection's is refused.
    assert (
        _deliver(trigger_url, "evt_journey_ok", contact.stripe_customer_id, TRIGGER_SECRET) == 200
    )
    refused = _deliver(
        trigger_url, "evt_journey_bad", contact.stripe_customer_id, CONNECTION_SECRET
    )
    assert refused == 400
    assert not StripeEvent.objects.filter(event_id="evt_journey_bad").exists()
    assert Run.objects.filter(workflow=workflow).count() == 1

    page.get_by_role("navigation", name="Workflow").get_by_role(
        "link", name="Enrollment history"
    ).click()
    rows = page.get_by_role("row").filter(has_text="Jane Cooper")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("Succeeded")
    expect(rows).to_contain_text("v1")
    screenshot("trigger-signing-secret-run-history")
    run = Run.objects.get(workflow=workflow)
    assert run.trigger["id"] == "evt_journey_ok" and run.status == "succeeded"


def test_an_owner_pasting_the_signing_secret_as_the_secret_key_is_told_which_goes_where(
    live_server, page, login, screenshot, sandbox, settings, workspace, owner
):
    settings.SITE_URL = live_server.url
    secret, publishable, _ = sandbox.new_account(name="Acme Dental")
    login(page, owner)
    page.goto(f"{live_server.url}/w/{workspace.slug}/stripe/connections/new/")
    expect(page.get_by_test_id("which-secret")).to_contain_text("does not go here")
    page.get_by_label("Secret key").fill(TRIGGER_SECRET)
    page.get_by_label("Publishable key").fill(publishable)
    page.get_by_role("button", name="Check and connect").click()
    expect(
        page.get_by_text("This is a webhook signing secret (whsec_…), not a Stripe secret key.")
    ).to_be_visible()
    screenshot("connection-signing-secret-mixup")
    assert TRIGGER_SECRET not in page.content()

    page.get_by_label("Secret key").fill(secret)
    page.get_by_role("button", name="Check and connect").click()
    expect(page.get_by_text("Connected to Acme Dental.")).to_be_visible()
    page.get_by_role("link", name="Webhooks").click()
    endpoint = WebhookEndpoint.objects.get(trigger_key="")
    url = page.get_by_role("textbox", name="Endpoint URL")
    expect(url).to_have_value(f"{live_server.url}/hooks/stripe/{endpoint.uuid}/")
    # The URL comes first; the paste form refers to it as "the URL above".
    html = page.content()
    assert html.index(str(endpoint.uuid)) < html.index("give it the URL above")
    screenshot("connection-webhooks-page")
