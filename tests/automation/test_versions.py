"""Versions: what differs from the live version (automation.versions), "Publish changes"
(atomic, nothing to publish without changes), the version history, "Restore as draft", and
who may do each."""

from __future__ import annotations

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection as db
from django.db.models import F
from django.urls import reverse

from automation import versions
from automation.models import Run, Workflow, WorkflowVersion
from automation.services import workflows as services
from automation.services.runs import runs_start_for_trigger
from portal.models import AuditEntry
from tests.factories import StripeConnectionFactory

LABELS = {"manual": "Manual (for testing)", "filter": "Filter (stop unless)",
          "if_else": "If / else", "send_email": "Send e-mail",
          "stripe_one_time_charge": "Stripe one-time charge"}  # fmt: skip
SETTINGS = {"max_amount_per_charge": 50_00, "max_amount_per_day": None,
            "safety_currency": "usd", "allow_reentry": True}  # fmt: skip


def _step(key, type="send_email", name=None, **config):
    return {"key": key, "type": type, "name": name or key.title(), "config": config}


def _definition(*steps, trigger="manual", **trigger_config):
    return {"trigger": {"type": trigger, "config": trigger_config}, "steps": list(steps)}


def _texts(old, new, **kwargs):
    kwargs.setdefault("old_settings", SETTINGS)
    kwargs.setdefault("new_settings", SETTINGS)
    return [str(c) for c in versions.changes(old, new, labels=LABELS, **kwargs)]


# --- the diff ------------------------------------------------------------------------------------


def test_the_same_definition_and_settings_have_no_changes():
    definition = _definition(_step("a"), _step("b"))
    same = _definition(_step("a"), _step("b"))
    assert _texts(definition, same) == []
    assert not versions.has_changes(definition, same, old_settings=SETTINGS,
                                    new_settings=dict(SETTINGS))  # fmt: skip


def test_an_added_step_says_where_and_the_steps_below_it_are_not_moved():
    old = _definition(_step("a"), _step("b"))
    new = _definition(_step("a"), _step("new", name="Tell the owner"), _step("b"))
    assert _texts(old, new) == ["Added step “Tell the owner” (Send e-mail), after “A”"]


def test_a_removed_step_and_a_removed_if_else_with_its_branches():
    inner = _step("inner", type="filter")
    branch = {**_step("check", type="if_else", name="Paid?"), "then": [inner], "else": []}
    old = _definition(_step("a"), branch, _step("b"))
    new = _definition(_step("b"))
    assert _texts(old, new) == [
        "Removed step “A” (Send e-mail)",
        "Removed step “Paid?” (If / else), with 1 step inside",
    ]


def test_a_step_moved_up_is_the_only_one_reported():
    old = _definition(_step("a"), _step("b"), _step("c"), _step("d"))
    new = _definition(_step("a"), _step("d"), _step("b"), _step("c"))
    assert _texts(old, new) == ["Moved step “D” up, now after “A”"]


def test_a_step_moved_into_a_branch():
    old = _definition(
        {**_step("check", type="if_else", name="Paid?"), "then": [], "else": []}, _step("mail")
    )
    new = _definition(
        {**_step("check", type="if_else", name="Paid?"), "then": [], "else": [_step("mail")]}
    )
    assert _texts(old, new) == ["Moved step “Mail”, now first in “Paid?” (Otherwise)"]


def test_a_rename_and_changed_fields_show_old_and_new_values():
    old = _definition(_step("charge", type="stripe_one_time_charge", name="Charge",
                            amount=2500, currency="usd", description="Lead fee"))  # fmt: skip
    new = _definition(_step("charge", type="stripe_one_time_charge", name="Charge the client",
                            amount=3000, currency="usd", description="Lead fee"))  # fmt: skip
    assert _texts(old, new) == [
        "Renamed step “Charge” to “Charge the client”",
        "Changed step “Charge the client”: Amount: $25.00 → $30.00",
    ]


def test_field_labels_come_from_the_caller_and_secrets_are_never_shown():
    old = _definition(_step("mail", to="a@example.com", api_secret="s3cret-old"))
    new = _definition(_step("mail", to="b@example.com", api_secret="s3cret-new"))
    found = versions.changes(
        old, new, old_settings=SETTINGS, new_settings=SETTINGS,
        field_label=lambda step_type, field: f"{step_type}/{field}",
    )  # fmt: skip
    assert [c.details for c in found] == [
        ("send_email/to: “a@example.com” → “b@example.com”", "send_email/api_secret changed")
    ]
    assert "s3cret" not in versions.summary_text(found)


def test_a_trigger_changed_in_words_and_its_filters():
    old = _definition(_step("a"), trigger="form_submitted", forms=["f1"])
    new = _definition(_step("a"), trigger="form_submitted", forms=["f1", "f2"])
    words = {"f1": "Lead form", "f2": "Contact form"}

    def trigger_text(trigger):
        return "Form submitted: " + ", ".join(words[f] for f in trigger["config"]["forms"])

    found = versions.changes(old, new, old_settings=SETTINGS, new_settings=SETTINGS,
                             trigger_text=trigger_text)  # fmt: skip
    assert [c.text for c in found] == [
        "Trigger changed: “Form submitted: Lead form” → “Form submitted: Lead form, Contact form”"
    ]
    other = _definition(_step("a"), trigger="manual")
    assert _texts(old, other)[0].startswith("Trigger changed: “form_submitted” → “Manual")


def test_safety_settings_changed_in_their_currency():
    new_settings = {**SETTINGS, "max_amount_per_charge": 75_00, "max_amount_per_day": 500_00,
                    "allow_reentry": False}  # fmt: skip
    definition = _definition(_step("a"))
    assert _texts(definition, definition, new_settings=new_settings) == [
        "Safety settings changed: Largest single charge: $50.00 → $75.00; "
        "Most charged per day: no limit → $500.00; "
        "A contact may go through this workflow more than once: yes → no"
    ]


# --- the workflow --------------------------------------------------------------------------------


@pytest.fixture
def live(workspace):
    """A published workflow (version 1): the manual trigger, a filter, then a charge."""
    connection = StripeConnectionFactory(workspace=workspace)
    workflow = services.workflow_create(workspace=workspace, name="Pay per lead")
    services.trigger_set(workflow=workflow, type="manual", config={})
    check = services.step_add(workflow=workflow, type="filter")
    services.step_update(workflow=workflow, key=check["key"], name="Only paying leads",
                         config={"left": "{{ trigger.type }}", "operator": "equals",
                                 "right": "manual"})  # fmt: skip
    charge = services.step_add(workflow=workflow, type="stripe_one_time_charge")
    services.step_update(workflow=workflow, key=charge["key"], name="Charge", config={
        "connection": str(connection.uuid), "customer_id": "cus_client",
        "description": "Lead fee", "amount": 2500, "amount_in_minor_units": False,
        "currency": "usd",
    })  # fmt: skip
    assert services.workflow_problems(workflow) == []
    services.workflow_publish(workflow=workflow)
    return Workflow.objects.get(pk=workflow.pk)


def _raise_fee(workflow, amount=3000):
    step = dict(services.tree.step_find(workflow.definition, "stripe_one_time_charge").step)
    services.step_update(workflow=workflow, key=step["key"], name=step["name"],
                         config={**step["config"], "amount": amount})  # fmt: skip


@pytest.mark.django_db
def test_an_edit_of_a_published_workflow_is_an_unpublished_change(live):
    assert not services.workflow_has_changes(live) and services.workflow_changes(live) == []
    _raise_fee(live)
    assert services.workflow_has_changes(live)
    assert [str(c) for c in services.workflow_changes(live)] == [
        "Changed step “Charge”: Amount: $25.00 → $30.00"
    ]


@pytest.mark.django_db
def test_publish_changes_makes_the_next_version_with_who_and_a_summary(live, owner):
    _raise_fee(live)
    version = services.workflow_publish(workflow=live, changes_only=True, actor=owner)
    live.refresh_from_db()
    assert version.number == 2 and live.published_version == version
    assert live.status == Workflow.Status.PUBLISHED and version.published_by == owner
    assert version.summary == "Changed step “Charge”: Amount: $25.00 → $30.00"
    assert version.definition == live.definition
    assert not services.workflow_has_changes(live)


@pytest.mark.django_db
def test_without_changes_there_is_nothing_to_publish(live):
    with pytest.raises(ValidationError) as refused:
        services.workflow_publish(workflow=live, changes_only=True)
    assert refused.value.error_list[0].code == "no_changes"
    assert "Nothing to publish" in refused.value.messages[0]
    assert live.versions.count() == 1
    assert not AuditEntry.objects.filter(summary__contains="version 2").exists()


@pytest.mark.django_db
def test_publish_changes_refuses_an_unpublished_workflow(live):
    services.workflow_unpublish(workflow=live)
    _raise_fee(live)
    with pytest.raises(ValidationError) as refused:
        services.workflow_publish(workflow=live, changes_only=True)
    assert refused.value.error_list[0].code == "not_published"
    live.refresh_from_db()
    assert live.status == Workflow.Status.DRAFT and live.versions.count() == 1


@pytest.mark.django_db
def test_a_draft_with_problems_is_not_published_and_stays_the_draft(live):
    services.step_add(workflow=live, type="stripe_one_time_charge")  # amount still empty
    with pytest.raises(ValidationError):
        services.workflow_publish(workflow=live, changes_only=True)
    live.refresh_from_db()
    assert live.published_version.number == 1 and live.versions.count() == 1


def _fire(workspace, cause: str) -> list[Run]:
    return runs_start_for_trigger(workspace=workspace, trigger_type="manual",
                                  trigger={"type": "manual"}, cause=cause)  # fmt: skip


def _live_versions(workspace) -> list[int]:
    """What a trigger would start now: the query runs_start_for_trigger makes."""
    return list(
        WorkflowVersion.objects.filter(
            workflow__workspace=workspace, workflow__status=Workflow.Status.PUBLISHED,
            workflow__published_version=F("pk"),
        ).values_list("number", flat=True)
    )  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_a_submission_during_publish_runs_exactly_one_version(
    live, workspace, monkeypatch, django_capture_on_commit_callbacks
):
    """Publishing holds the workflow's row while it makes version 2; meanwhile the live
    version stays 1 (never none), a lead arriving then starts one run of one version, and the
    run started before keeps version 1."""
    monkeypatch.setattr("automation.services.runs.run_enqueue", lambda run: None)
    before = _fire(workspace, "before")[0]
    _raise_fee(live)
    inside, release, errors = threading.Event(), threading.Event(), []
    real_audit = services.audit_record

    def audit_then_wait(**kwargs):  # the version is made, the switch not yet committed
        inside.set()
        release.wait(15)
        return real_audit(**kwargs)

    monkeypatch.setattr(services, "audit_record", audit_then_wait)

    def publish():
        try:
            services.workflow_publish(workflow=Workflow.objects.get(pk=live.pk), changes_only=True)
        except Exception as error:  # noqa: BLE001  (reported by the test)
            errors.append(error)
        finally:
            db.close()

    started: list[Run] = []

    def submit():
        try:
            started.extend(_fire(workspace, "during"))
        except Exception as error:  # noqa: BLE001
            errors.append(error)
        finally:
            db.close()

    publisher = threading.Thread(target=publish)
    publisher.start()
    assert inside.wait(15), errors
    assert _live_versions(workspace) == [1]  # mid-publish: still live, on version 1
    submitter = threading.Thread(target=submit)
    submitter.start()
    time.sleep(0.3)  # the lead arrives while the publish is still open
    release.set()
    publisher.join(30)
    submitter.join(30)

    assert not errors
    assert _live_versions(workspace) == [2]
    assert len(started) == 1  # one run: on version 1 or 2, whichever the database ordered first
    assert Run.objects.get(pk=started[0].pk).version.number in (1, 2)
    assert Run.objects.filter(cause="during").count() == 1
    assert Run.objects.get(pk=before.pk).version.number == 1
    after = _fire(workspace, "after")[0]
    assert after.version.number == 2


@pytest.mark.django_db
def test_restore_copies_a_version_into_the_draft_and_nothing_goes_live(live, owner):
    original = live.versions.get(number=1)
    _raise_fee(live)
    services.workflow_settings_save(workflow=live, max_amount_per_charge=90_00,
                                    max_amount_per_day=None, safety_currency="usd",
                                    allow_reentry=False)  # fmt: skip
    services.workflow_publish(workflow=live, changes_only=True, actor=owner)
    services.version_restore(workflow=live, version=original, actor=owner, address="203.0.113.9")
    live.refresh_from_db()
    assert live.definition == original.definition
    assert services.workflow_settings(live) == original.settings
    assert live.published_version.number == 2  # the draft changed; version 2 is still live
    assert [str(c) for c in services.workflow_changes(live)][0] == (
        "Changed step “Charge”: Amount: $30.00 → $25.00"
    )
    entry = AuditEntry.objects.get(action=services.AUDIT_VERSION_RESTORE)
    assert entry.summary == "Restored version 1 of Pay per lead as the draft"
    assert (entry.actor, entry.address) == (owner, "203.0.113.9")
    with pytest.raises(ValidationError) as again:
        services.version_restore(workflow=live, version=original)
    assert again.value.error_list[0].code == "same"


@pytest.mark.django_db
def test_the_history_lists_each_version_with_what_it_changed(live, owner):
    _raise_fee(live)
    services.workflow_publish(workflow=live, changes_only=True, actor=owner)
    history = services.version_history(Workflow.objects.get(pk=live.pk))
    assert [(row["version"].number, row["live"]) for row in history] == [(2, True), (1, False)]
    assert history[0]["lines"] == ["Changed step “Charge”: Amount: $25.00 → $30.00"]
    assert history[1]["lines"] == ["First version."]
    # A version kept before summaries were: its summary is worked out from the one before.
    WorkflowVersion.objects.filter(number=2).update(summary="")
    history = services.version_history(Workflow.objects.get(pk=live.pk))
    assert history[0]["lines"] == ["Changed step “Charge”: Amount: $25.00 → $30.00"]


# --- the pages -----------------------------------------------------------------------------------


def _url(name, workflow, *args):
    return reverse(name, args=["acme", workflow.uuid, *args])


@pytest.mark.django_db
def test_the_builder_header_shows_unpublished_changes_and_what_differs(live, owner, as_user):
    client = as_user(owner)
    html = client.get(live.get_absolute_url()).content.decode()
    assert "Unpublished changes" not in html and "No unpublished changes" in html
    _raise_fee(live)
    html = client.get(live.get_absolute_url()).content.decode()
    assert "Unpublished changes" in html
    assert "Changed step “Charge”" in html and "$25.00 → $30.00" in html
    # An htmx edit sends the header again, out of band, so it follows the edit.
    partial = client.get(live.get_absolute_url(), HTTP_HX_REQUEST="true").content.decode()
    assert 'id="wf-header" hx-swap-oob="true"' in partial and "Unpublished changes" in partial


@pytest.mark.django_db
def test_publish_changes_page_action(live, owner, as_user):
    client = as_user(owner)
    response = client.post(_url("workflow_publish_changes", live), follow=True)
    assert "Nothing to publish" in response.content.decode()
    assert live.versions.count() == 1
    _raise_fee(live)
    response = client.post(_url("workflow_publish_changes", live), follow=True)
    html = response.content.decode()
    assert "Published version 2: it is live." in html and "No unpublished changes" in html
    assert live.versions.count() == 2


@pytest.mark.django_db
def test_the_versions_page_and_restore_with_confirmation(live, owner, as_user, settings):
    _raise_fee(live)
    services.workflow_publish(workflow=live, changes_only=True, actor=owner)
    client = as_user(owner)
    client.cookies["tz"] = "America/New_York"
    html = client.get(_url("workflow_versions", live)).content.decode()
    assert 'id="v2"' in html and 'id="v1"' in html and "Live" in html
    assert owner.email in html and "America/New_York" in html
    assert "$25.00 → $30.00" in html and "First version." in html
    v1 = live.versions.get(number=1)
    confirm = client.get(_url("workflow_version_restore", live, v1.uuid)).content.decode()
    assert "Restore version 1 as the draft?" in confirm and "$30.00 → $25.00" in confirm
    live.refresh_from_db()
    assert live.definition != v1.definition  # a GET changes nothing
    response = client.post(_url("workflow_version_restore", live, v1.uuid), follow=True)
    assert "Version 1 restored as the draft" in response.content.decode()
    live.refresh_from_db()
    assert live.definition == v1.definition and live.published_version.number == 2


@pytest.mark.django_db
def test_staff_may_see_and_restore_versions_but_not_publish(live, staff, as_user):
    client = as_user(staff)
    _raise_fee(live)
    assert client.get(_url("workflow_versions", live)).status_code == 200
    html = client.get(live.get_absolute_url()).content.decode()
    assert "Unpublished changes" in html and "needs the permission workflow=publish" in html
    response = client.post(_url("workflow_publish_changes", live))
    assert response.status_code == 403 and live.versions.count() == 1
    v1 = live.versions.get(number=1)
    assert client.post(_url("workflow_version_restore", live, v1.uuid)).status_code == 302


@pytest.mark.django_db
def test_payer_gets_403_and_another_workspace_404(live, payer, as_user, outsider):
    v1 = live.versions.get(number=1)
    urls = [_url("workflow_versions", live), _url("workflow_version_restore", live, v1.uuid)]
    for url in urls:
        assert as_user(payer).get(url).status_code == 403
        assert as_user(payer).post(url).status_code == 403
    assert as_user(payer).post(_url("workflow_publish_changes", live)).status_code == 403
    outsider = as_user(outsider)
    for url in [*urls, _url("workflow_publish_changes", live)]:
        assert outsider.get(url).status_code in (404, 405)
        assert outsider.post(url).status_code == 404


@pytest.mark.django_db
def test_a_version_of_another_workflow_is_404(live, owner, as_user, workspace):
    other = services.workflow_create(workspace=workspace, name="Other")
    v1 = live.versions.get(number=1)
    response = as_user(owner).get(_url("workflow_version_restore", other, v1.uuid))
    assert response.status_code == 404


@pytest.mark.django_db
def test_each_run_links_to_the_version_it_ran(live, owner, as_user, workspace, monkeypatch):
    monkeypatch.setattr("automation.services.runs.run_enqueue", lambda run: None)
    first = _fire(workspace, "one")[0]
    _raise_fee(live)
    services.workflow_publish(workflow=live, changes_only=True)
    second = _fire(workspace, "two")[0]
    client = as_user(owner)
    versions_url = _url("workflow_versions", live)
    runs = client.get(_url("run_list", live)).content.decode()
    assert f'<a href="{versions_url}#v1"' in runs and f'<a href="{versions_url}#v2"' in runs
    page = client.get(first.get_absolute_url()).content.decode()
    assert f'<a href="{versions_url}#v1">Version 1</a>' in page
    page = client.get(second.get_absolute_url()).content.decode()
    assert f'<a href="{versions_url}#v2">Version 2</a>' in page
