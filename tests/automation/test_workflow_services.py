"""Workflow services: create/rename/duplicate/delete, builder edits of the draft, publishing
(all or nothing), unpublishing, test runs and the variable picker."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from automation.models import Run, StepRun, Workflow, WorkflowVersion
from automation.services import workflows as services
from portal.models import AuditEntry
from tests.factories import ContactFactory, StripeConnectionFactory

pytestmark = pytest.mark.django_db

FILTER_CONFIG = {"left": "{{ trigger.type }}", "operator": "equals", "right": "manual"}


@pytest.fixture
def workflow(workspace):
    return services.workflow_create(workspace=workspace, name="Pay per lead")


def _charge_config(connection, **overrides) -> dict:
    config = {
        "connection": str(connection.uuid),
        "customer_id": "{{ contact.stripe_customer_id }}",
        "description": "Lead fee",
        "amount": 4999,
        "amount_in_minor_units": False,
        "currency": "usd",
    }
    return {**config, **overrides}


def _ready(workflow, connection) -> dict:
    """A trigger and one complete charge step."""
    services.trigger_set(workflow=workflow, type="manual", config={})
    step = services.step_add(workflow=workflow, type="stripe_one_time_charge")
    services.step_update(
        workflow=workflow,
        key=step["key"],
        name="Charge the lead fee",
        config=_charge_config(connection),
    )
    return step


# --- workflows ---------------------------------------------------------------------------------


def test_create_makes_an_empty_draft(workflow, workspace):
    assert workflow.status == Workflow.Status.DRAFT
    assert workflow.definition == {"trigger": None, "steps": []}
    assert workflow.workspace == workspace


def test_create_and_rename_refuse_a_blank_name(workspace, workflow):
    with pytest.raises(ValidationError):
        services.workflow_create(workspace=workspace, name="  ")
    with pytest.raises(ValidationError):
        services.workflow_rename(workflow=workflow, name="")
    services.workflow_rename(workflow=workflow, name=" Lead fees ")
    workflow.refresh_from_db()
    assert workflow.name == "Lead fees"


def test_duplicate_is_a_draft_copy_without_versions_or_runs(workflow, workspace):
    connection = StripeConnectionFactory(workspace=workspace)
    _ready(workflow, connection)
    services.workflow_settings_save(
        workflow=workflow,
        max_amount_per_charge=10000,
        max_amount_per_day=50000,
        safety_currency="usd",
        allow_reentry=False,
    )
    services.workflow_publish(workflow=workflow)
    copy = services.workflow_duplicate(workflow=workflow)
    assert copy.name == "Copy of Pay per lead"
    assert copy.status == Workflow.Status.DRAFT and copy.published_version is None
    assert copy.definition == workflow.definition and copy.definition is not workflow.definition
    assert (copy.max_amount_per_charge, copy.allow_reentry) == (10000, False)
    assert copy.versions.count() == 0 and copy.runs.count() == 0


def test_delete_removes_versions_and_runs(workflow, workspace, django_capture_on_commit_callbacks):
    _ready(workflow, StripeConnectionFactory(workspace=workspace))
    version = services.workflow_publish(workflow=workflow)
    Run.objects.create(
        workspace=workspace, workflow=workflow, version=version, trigger_type="manual", cause="x"
    )
    services.workflow_delete(workflow=workflow)
    assert not Workflow.objects.exists() and not WorkflowVersion.objects.exists()
    assert not Run.objects.exists()


# --- builder edits -------------------------------------------------------------------------------


def test_step_keys_come_from_the_type_and_stay_unique(workflow):
    first = services.step_add(workflow=workflow, type="stripe_one_time_charge")
    second = services.step_add(workflow=workflow, type="stripe_one_time_charge")
    assert (first["key"], second["key"]) == ("stripe_one_time_charge", "stripe_one_time_charge_2")
    assert first["name"] == "Stripe one-time charge"
    # The form's defaults are stored, so the step is as complete as the builder shows it.
    assert first["config"] == {"customer_id": "{{ contact.stripe_customer_id }}", "currency": "usd"}
    workflow.refresh_from_db()
    assert [s["key"] for s in workflow.definition["steps"]] == [first["key"], second["key"]]


def test_steps_go_after_a_step_first_or_into_a_branch(workflow):
    a = services.step_add(workflow=workflow, type="filter")
    branch = services.step_add(workflow=workflow, type="if_else", after=a["key"])
    first = services.step_add(workflow=workflow, type="send_email", after="")
    inside = services.step_add(
        workflow=workflow, type="stripe_refund", branch=(branch["key"], "else")
    )
    workflow.refresh_from_db()
    steps = workflow.definition["steps"]
    assert [s["key"] for s in steps] == [first["key"], "filter", "if_else"]
    assert steps[2]["then"] == [] and [s["key"] for s in steps[2]["else"]] == [inside["key"]]


def test_step_add_refuses_unknown_types_and_places(workflow):
    a = services.step_add(workflow=workflow, type="filter")
    with pytest.raises(ValidationError):
        services.step_add(workflow=workflow, type="nope")
    with pytest.raises(ValidationError):
        services.step_add(workflow=workflow, type="filter", branch=(a["key"], "then"))
    with pytest.raises(ValidationError):
        services.step_add(workflow=workflow, type="filter", after="missing")
    workflow.refresh_from_db()
    assert len(workflow.definition["steps"]) == 1


def test_update_renames_and_keeps_the_key(workflow):
    step = services.step_add(workflow=workflow, type="filter")
    services.step_update(
        workflow=workflow, key=step["key"], name="Only hot leads", config=FILTER_CONFIG
    )
    workflow.refresh_from_db()
    expected = {
        "key": "filter",
        "type": "filter",
        "name": "Only hot leads",
        "config": FILTER_CONFIG,
    }
    assert workflow.definition["steps"][0] == expected
    with pytest.raises(ValidationError):
        services.step_update(workflow=workflow, key="gone", name="x", config={})


def test_move_and_remove(workflow):
    a = services.step_add(workflow=workflow, type="filter")
    b = services.step_add(workflow=workflow, type="send_email")
    services.step_move(workflow=workflow, key=b["key"], direction="up")
    services.step_move(workflow=workflow, key=b["key"], direction="up")  # already first
    workflow.refresh_from_db()
    assert [s["key"] for s in workflow.definition["steps"]] == [b["key"], a["key"]]
    services.step_remove(workflow=workflow, key=b["key"])
    workflow.refresh_from_db()
    assert [s["key"] for s in workflow.definition["steps"]] == [a["key"]]


def test_trigger_set_refuses_an_unknown_trigger(workflow):
    with pytest.raises(ValidationError):
        services.trigger_set(workflow=workflow, type="nope", config={})
    services.trigger_set(workflow=workflow, type="stripe_charge_event", config={"connection": ""})
    workflow.refresh_from_db()
    assert workflow.trigger_type == "stripe_charge_event"


# --- publishing -------------------------------------------------------------------------------


def test_publish_snapshots_the_draft_into_the_next_version(workflow, workspace):
    _ready(workflow, StripeConnectionFactory(workspace=workspace))
    services.workflow_settings_save(
        workflow=workflow,
        max_amount_per_charge=10000,
        max_amount_per_day=None,
        safety_currency="usd",
        allow_reentry=True,
    )
    first = services.workflow_publish(workflow=workflow)
    second = services.workflow_publish(workflow=workflow)
    workflow.refresh_from_db()
    assert (first.number, second.number) == (1, 2)
    assert workflow.status == Workflow.Status.PUBLISHED and workflow.published_version == second
    assert second.definition == workflow.definition and second.trigger_type == "manual"
    assert second.settings == {
        "max_amount_per_charge": 10000,
        "max_amount_per_day": None,
        "safety_currency": "usd",
        "allow_reentry": True,
    }


def test_publish_refuses_a_draft_without_trigger_and_stores_nothing(workflow):
    services.step_add(workflow=workflow, type="filter")
    with pytest.raises(ValidationError) as error:
        services.workflow_publish(workflow=workflow)
    assert "Add a trigger" in " ".join(error.value.messages)
    workflow.refresh_from_db()
    assert workflow.status == Workflow.Status.DRAFT and not workflow.versions.exists()


def test_publish_names_the_incomplete_step_and_field(workflow, workspace):
    _ready(workflow, StripeConnectionFactory(workspace=workspace))
    services.step_add(workflow=workflow, type="stripe_one_time_charge")  # amount still empty
    with pytest.raises(ValidationError) as error:
        services.workflow_publish(workflow=workflow)
    text = " ".join(error.value.messages)
    assert "Stripe one-time charge" in text and "Amount" in text
    assert not WorkflowVersion.objects.exists()


def test_publish_refuses_a_variable_of_a_step_below(workflow, workspace):
    services.trigger_set(workflow=workflow, type="manual", config={})
    check = services.step_add(workflow=workflow, type="filter")
    services.step_update(
        workflow=workflow,
        key=check["key"],
        name="Check",
        config={**FILTER_CONFIG, "left": "{{ steps.stripe_one_time_charge.status }}"},
    )
    charge = services.step_add(workflow=workflow, type="stripe_one_time_charge")
    config = _charge_config(StripeConnectionFactory(workspace=workspace))
    services.step_update(workflow=workflow, key=charge["key"], name="Charge", config=config)
    with pytest.raises(ValidationError) as error:
        services.workflow_publish(workflow=workflow)
    assert "steps.stripe_one_time_charge.status" in " ".join(error.value.messages)


def test_unpublish_keeps_the_version_for_history(workflow, workspace):
    _ready(workflow, StripeConnectionFactory(workspace=workspace))
    version = services.workflow_publish(workflow=workflow)
    services.workflow_unpublish(workflow=workflow)
    workflow.refresh_from_db()
    assert workflow.status == Workflow.Status.DRAFT and workflow.published_version == version


def test_publish_and_unpublish_are_recorded_with_who_and_where(workflow, workspace, owner):
    _ready(workflow, StripeConnectionFactory(workspace=workspace))
    services.workflow_publish(workflow=workflow, actor=owner, address="203.0.113.7")
    services.workflow_unpublish(workflow=workflow, actor=owner, address="203.0.113.7")
    services.workflow_unpublish(workflow=workflow, actor=owner)  # a draft already: no change

    published, unpublished = AuditEntry.objects.order_by("id")
    assert published.action == AuditEntry.Action.WORKFLOW_PUBLISH
    assert published.summary == "Published Pay per lead as version 1"
    assert published.changes["status"] == {"before": "draft", "after": "published"}
    assert unpublished.action == AuditEntry.Action.WORKFLOW_UNPUBLISH
    assert unpublished.summary == "Unpublished Pay per lead"
    for entry in (published, unpublished):
        assert (entry.actor, entry.address) == (owner, "203.0.113.7")


def test_a_refused_publish_records_nothing(workflow):
    services.step_add(workflow=workflow, type="filter")
    with pytest.raises(ValidationError):
        services.workflow_publish(workflow=workflow, actor=None)
    assert not AuditEntry.objects.exists()


def test_the_entries_outlive_the_deleted_workflow(workflow, workspace, owner):
    _ready(workflow, StripeConnectionFactory(workspace=workspace))
    services.workflow_publish(workflow=workflow, actor=owner)
    services.workflow_delete(workflow=workflow, actor=owner, address="203.0.113.7")
    assert not Workflow.objects.exists()

    published, deleted = AuditEntry.objects.order_by("id")
    assert published.object_id == deleted.object_id == str(workflow.uuid)
    assert published.object_label == "Pay per lead"
    assert deleted.action == AuditEntry.Action.WORKFLOW_DELETE
    assert deleted.summary == "Deleted the published workflow Pay per lead"


def test_settings_refuse_a_zero_limit(workflow):
    with pytest.raises(ValidationError):
        services.workflow_settings_save(
            workflow=workflow,
            max_amount_per_charge=0,
            max_amount_per_day=None,
            safety_currency="usd",
            allow_reentry=True,
        )


# --- test runs ---------------------------------------------------------------------------------


def test_test_run_freezes_the_draft_and_uses_the_trigger_sample(workflow, workspace):
    _ready(workflow, StripeConnectionFactory(workspace=workspace))
    contact = ContactFactory(workspace=workspace)
    run = services.test_run_start(workflow=workflow, contact=contact)
    assert run.is_test and run.version is None and run.contact == contact
    assert run.test_definition == workflow.definition
    assert run.trigger == {"type": "manual"} and run.cause.startswith("test:")
    assert run.status == Run.Status.QUEUED


def test_test_run_refuses_another_workspaces_contact(workflow, workspace, other_workspace):
    _ready(workflow, StripeConnectionFactory(workspace=workspace))
    with pytest.raises(ValidationError):
        services.test_run_start(
            workflow=workflow, contact=ContactFactory(workspace=other_workspace)
        )


def test_test_run_charges_through_the_sandbox(
    workspace, connection, contact, django_capture_on_commit_callbacks
):
    workflow = services.workflow_create(workspace=workspace, name="Lead fee")
    _ready(workflow, connection)
    with django_capture_on_commit_callbacks(execute=True):
        run = services.test_run_start(workflow=workflow, contact=contact)
    run.refresh_from_db()
    assert run.status == Run.Status.SUCCEEDED, run.error_message
    step = run.steps.get()
    assert step.status == StepRun.Status.SUCCEEDED and step.outputs["id"].startswith("pi_")


# --- the variable picker ------------------------------------------------------------------------


def test_picker_offers_contact_trigger_and_only_steps_above(workflow, workspace):
    ContactFactory(workspace=workspace, custom_fields={"lead_value": "150"})
    services.trigger_set(workflow=workflow, type="stripe_charge_event", config={"connection": ""})
    create = services.step_add(workflow=workflow, type="stripe_create_customer")
    branch = services.step_add(workflow=workflow, type="if_else", after=create["key"])
    inside = services.step_add(
        workflow=workflow, type="stripe_one_time_charge", branch=(branch["key"], "then")
    )
    services.step_add(workflow=workflow, type="send_email", after=branch["key"])
    groups = dict(services.variables_for_step(workflow=workflow, key=inside["key"]))
    paths = {group: [path for _, path in items] for group, items in groups.items()}
    assert "contact.email" in paths["Contact"] and "contact.custom.lead_value" in paths["Contact"]
    assert "trigger.data.object.amount" in paths["Trigger"]
    assert "steps.stripe_create_customer.id" in paths["Steps"]
    assert "steps.if_else.branch" in paths["Steps"]
    assert not any(
        p.startswith(("steps.send_email", "steps.stripe_one_time_charge")) for p in paths["Steps"]
    )
    first = dict(services.variables_for_step(workflow=workflow, key=create["key"]))
    assert "Steps" not in first
