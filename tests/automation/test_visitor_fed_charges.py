"""A charge whose customer or amount a visitor chooses (a public form or booking, or the
contact such a page found) cannot be published without a maximum per charge and per day."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from automation.services import workflows as services
from tests.automation.conftest import charge_step
from tests.automation.factories import FormFactory

pytestmark = pytest.mark.django_db

RULE = "set a maximum per charge and a maximum per day"


def _draft(workspace, connection, *, trigger="form_submitted", **config):
    workflow = services.workflow_create(workspace=workspace, name="Pay per lead")
    form = FormFactory(workspace=workspace)
    services.trigger_set(workflow=workflow, type=trigger, config={"forms": [str(form.uuid)]}
                         if trigger == "form_submitted" else {})  # fmt: skip
    step = services.step_add(workflow=workflow, type="stripe_one_time_charge")
    services.step_update(
        workflow=workflow,
        key=step["key"],
        name="Charge",
        config={**charge_step(connection)["config"], **config},
    )
    return workflow


def _limits(workflow, *, per_charge, per_day):
    services.workflow_settings_save(
        workflow=workflow,
        max_amount_per_charge=per_charge,
        max_amount_per_day=per_day,
        safety_currency="usd",
        allow_reentry=True,
    )


def test_new_workflows_start_with_a_maximum_per_charge(workspace):
    workflow = services.workflow_create(workspace=workspace, name="New")
    assert workflow.max_amount_per_charge == 100_00 and workflow.safety_currency == "usd"


@pytest.mark.parametrize(
    "config",
    [
        {"customer_id": "{{ contact.stripe_customer_id }}", "amount": 2500},
        {"customer_id": "cus_fixed", "amount": "{{ trigger.fields.lead_value }}"},
        {"customer_id": "cus_fixed", "amount": "{{ contact.custom.lead_value }}"},
    ],
)
def test_a_visitor_fed_charge_is_not_published_without_both_maximums(workspace, connection, config):
    workflow = _draft(workspace, connection, **config)  # per charge only, as new ones start
    with pytest.raises(ValidationError) as refused:
        services.workflow_publish(workflow=workflow)
    assert any(RULE in message for message in refused.value.messages)
    assert not workflow.versions.exists()
    _limits(workflow, per_charge=50_00, per_day=500_00)
    assert services.workflow_publish(workflow=workflow).number == 1


def test_a_fixed_customer_and_fee_publishes_without_a_daily_maximum(workspace, connection):
    workflow = _draft(workspace, connection, customer_id="cus_client", amount=2500)
    assert services.workflow_publish(workflow=workflow).number == 1


def test_a_booking_trigger_is_a_visitor_too(workspace, connection):
    workflow = _draft(workspace, connection, trigger="appointment_booked")
    assert any(RULE in p for p in services.workflow_problems(workflow))


def test_a_manual_trigger_may_use_the_contacts_customer(workspace, connection):
    workflow = _draft(workspace, connection, trigger="manual")
    assert not any(RULE in p for p in services.workflow_problems(workflow))


def test_the_builder_says_why_next_to_the_step(as_user, owner, workspace, connection):
    workflow = _draft(workspace, connection)
    page = as_user(owner).get(reverse("workflow_builder", args=[workspace.slug, workflow.uuid]))
    assert page.status_code == 200
    step_warning = page.text.split('class="wf-step-warning"')[1].split("</p>")[0]
    assert "Its customer comes from what a visitor typed" in step_warning
    client = as_user(owner)
    response = client.post(
        reverse("workflow_publish", args=[workspace.slug, workflow.uuid]),
        {"published": "on"},
        follow=True,
    )
    assert "Not published." in response.text and RULE in response.text
    workflow.refresh_from_db()
    assert workflow.published_version is None
