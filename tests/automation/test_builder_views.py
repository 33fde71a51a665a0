"""The workflow pages and the builder: pages and htmx partials, valid and invalid edits,
the Publish toggle's permission, 404 for another workspace. (The full access matrix is in
test_access.py.)"""

from __future__ import annotations

import pytest
from django.urls import reverse

from automation.models import Run, Workflow
from automation.services import workflows as services
from tests.factories import ContactFactory, StripeConnectionFactory

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "wf-builder"}


@pytest.fixture
def workflow(workspace):
    return services.workflow_create(workspace=workspace, name="Pay per lead")


@pytest.fixture
def ready(workflow, workspace):
    """A trigger and a complete one-time charge step."""
    connection = StripeConnectionFactory(workspace=workspace)
    services.trigger_set(workflow=workflow, type="manual", config={})
    step = services.step_add(workflow=workflow, type="stripe_one_time_charge")
    config = {
        "connection": str(connection.uuid),
        "customer_id": "{{ contact.stripe_customer_id }}",
        "description": "Lead fee",
        "amount": 4999,
        "amount_in_minor_units": False,
        "currency": "usd",
    }
    services.step_update(workflow=workflow, key=step["key"], name="Charge", config=config)
    return workflow


def _url(name, workflow, *args):
    return reverse(name, args=["acme", workflow.uuid, *args])


def test_list_shows_status_and_last_run(workflow, ready, owner, as_user, workspace):
    services.workflow_publish(workflow=workflow)
    Run.objects.create(
        workspace=workspace,
        workflow=workflow,
        version=workflow.published_version,
        trigger_type="manual",
        cause="c",
        status="failed",
    )
    html = as_user(owner).get(reverse("workflow_list", args=["acme"])).content.decode()
    assert "Pay per lead" in html and "Published" in html and "Failed" in html


def test_create_redirects_to_the_builder_and_refuses_a_blank_name(owner, as_user):
    client = as_user(owner)
    url = reverse("workflow_create", args=["acme"])
    response = client.post(url, {"name": ""})
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    assert not Workflow.objects.exists()
    response = client.post(url, {"name": "Lead fees"})
    assert response["Location"] == Workflow.objects.get().get_absolute_url()


def test_builder_page_and_its_htmx_partial(ready, owner, as_user):
    client = as_user(owner)
    html = client.get(ready.get_absolute_url()).content.decode()
    assert "<html" in html and "Manual (for testing)" in html and "Charge" in html
    partial = client.get(ready.get_absolute_url(), **HTMX).content.decode()
    assert "<html" not in partial and 'id="wf-builder"' in partial


def test_choosing_a_trigger_then_its_filters(workflow, owner, as_user):
    client = as_user(owner)
    html = client.get(_url("workflow_trigger", workflow), **HTMX).content.decode()
    assert "<html" not in html and "Stripe charge event" in html
    response = client.post(
        _url("workflow_trigger", workflow),
        {"type": "stripe_charge_event", "connection": ""},
        **HTMX,
    )
    assert response.status_code == 200 and "Trigger saved" in response.content.decode()
    workflow.refresh_from_db()
    assert workflow.definition["trigger"] == {
        "type": "stripe_charge_event",
        "config": {"connection": ""},
    }


def test_an_invalid_trigger_filter_is_shown_and_not_saved(workflow, owner, as_user):
    response = as_user(owner).post(
        _url("workflow_trigger", workflow), {"type": "stripe_charge_event", "connection": "nope"}
    )
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    workflow.refresh_from_db()
    assert workflow.definition["trigger"] is None


def test_add_action_lists_and_filters_actions(workflow, owner, as_user):
    client = as_user(owner)
    html = client.get(_url("workflow_step_add", workflow) + "?q=one-time", **HTMX).content.decode()
    assert "<html" not in html and "Stripe one-time charge" in html and "Send e-mail" not in html


def test_adding_an_action_opens_its_settings(workflow, owner, as_user):
    client = as_user(owner)
    response = client.post(
        _url("workflow_step_add", workflow), {"type": "stripe_one_time_charge", "after": ""}, **HTMX
    )
    html = response.content.decode()
    assert "Customer ID" in html and "Insert a variable" in html and "contact.email" in html
    assert response["HX-Push-Url"].endswith("/steps/stripe_one_time_charge/")
    response = client.post(_url("workflow_step_add", workflow), {"type": "stripe_one_time_charge"})
    assert response["Location"].endswith("/steps/stripe_one_time_charge_2/")


def test_step_settings_save_whole_or_show_errors(ready, owner, as_user, workspace):
    client = as_user(owner)
    url = _url("workflow_step", ready, "stripe_one_time_charge")
    page = client.get(url).content.decode()
    assert 'value="49.99"' in page  # minor units shown in major units
    connection = workspace.stripe_connections.get()
    data = {
        "step-name": "Lead fee",
        "connection": str(connection.uuid),
        "customer_id": "cus_1",
        "description": "",
        "amount": "abc",
        "currency": "usd",
    }
    response = client.post(url, data, **HTMX)
    assert response.status_code == 200 and "Enter an amount" in response.content.decode()
    ready.refresh_from_db()
    assert ready.definition["steps"][0]["name"] == "Charge"  # nothing half-saved
    response = client.post(url, {**data, "amount": "{{ contact.custom.lead_value }}"})
    assert response.status_code == 302
    ready.refresh_from_db()
    step = ready.definition["steps"][0]
    assert (
        step["name"] == "Lead fee" and step["config"]["amount"] == "{{ contact.custom.lead_value }}"
    )


def test_an_unknown_step_is_404(workflow, owner, as_user):
    assert as_user(owner).get(_url("workflow_step", workflow, "nope")).status_code == 404


def test_move_and_remove_steps(ready, owner, as_user):
    client = as_user(owner)
    services.step_add(workflow=ready, type="filter")
    client.post(_url("workflow_step_move", ready, "filter"), {"direction": "up"})
    ready.refresh_from_db()
    assert [s["key"] for s in ready.definition["steps"]] == ["filter", "stripe_one_time_charge"]
    response = client.post(_url("workflow_step_remove", ready, "filter"), **HTMX)
    assert response.status_code == 200 and "<html" not in response.content.decode()
    ready.refresh_from_db()
    assert [s["key"] for s in ready.definition["steps"]] == ["stripe_one_time_charge"]


def test_safety_settings_in_major_units(workflow, owner, as_user):
    client = as_user(owner)
    url = _url("workflow_settings", workflow)
    data = {
        "safety_currency": "usd",
        "max_amount_per_charge": "100",
        "max_amount_per_day": "50",
        "allow_reentry": "on",
    }
    response = client.post(url, data)
    assert (
        response.status_code == 200
        and "below the largest single charge" in response.content.decode()
    )
    client.post(url, {**data, "max_amount_per_day": "1,000.00"})
    workflow.refresh_from_db()
    assert (workflow.max_amount_per_charge, workflow.max_amount_per_day) == (10000, 100000)


def test_publish_toggle(ready, owner, as_user):
    client = as_user(owner)
    client.post(_url("workflow_publish", ready), {"published": "on"})
    ready.refresh_from_db()
    assert ready.status == "published" and ready.published_version.number == 1
    client.post(_url("workflow_publish", ready), {})
    ready.refresh_from_db()
    assert ready.status == "draft" and ready.published_version.number == 1


def test_publishing_an_incomplete_draft_says_why(workflow, owner, as_user):
    response = as_user(owner).post(
        _url("workflow_publish", workflow), {"published": "on"}, follow=True
    )
    assert (
        "Not published" in response.content.decode()
        and "Add a trigger" in response.content.decode()
    )
    workflow.refresh_from_db()
    assert workflow.status == "draft" and not workflow.versions.exists()


def test_staff_edit_but_cannot_publish(ready, staff, as_user):
    client = as_user(staff)
    html = client.get(ready.get_absolute_url()).content.decode()
    assert "Publishing needs the permission workflow=publish" in html
    assert client.post(_url("workflow_publish", ready), {"published": "on"}).status_code == 403
    ready.refresh_from_db()
    assert ready.status == "draft"


def test_test_run_starts_and_goes_to_the_run_page(ready, owner, as_user, workspace):
    contact = ContactFactory(workspace=workspace)
    client = as_user(owner)
    assert "Start test run" in client.get(_url("workflow_test", ready)).content.decode()
    response = client.post(_url("workflow_test", ready), {"contact": str(contact.uuid)})
    run = Run.objects.get()
    assert response["Location"] == run.get_absolute_url()
    assert run.is_test and run.contact == contact
    assert run.started_by == owner  # its e-mails go to the member who started it


def test_rename_duplicate_delete(ready, owner, as_user):
    client = as_user(owner)
    client.post(_url("workflow_rename", ready), {"name": "Lead fees"})
    response = client.post(_url("workflow_duplicate", ready))
    copy = Workflow.objects.get(name="Copy of Lead fees")
    assert response["Location"] == copy.get_absolute_url()
    assert "cannot be undone" in client.get(_url("workflow_delete", copy)).content.decode()
    client.post(_url("workflow_delete", copy))
    assert list(Workflow.objects.values_list("name", flat=True)) == ["Lead fees"]


def test_another_workspaces_workflow_is_404(ready, outsider, as_user):
    client = as_user(outsider)
    assert client.get(ready.get_absolute_url()).status_code == 404
    other = reverse("workflow_builder", args=["globex", ready.uuid])
    assert client.get(other).status_code == 404
