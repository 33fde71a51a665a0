"""Copying a workflow to another workspace, and exporting / importing it as a file.

Acme's owner also owns Bright (both have a Stripe connection); the workflow "Pay per lead"
starts on Acme's lead form, charges a customer typed as cus_... on Acme's account, and refunds
on Acme's account inside an if/else branch.
"""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError
from django.urls import reverse

from automation import portable
from automation.definition import step_find, steps_walk
from automation.models import Appointment, Calendar, Form, Submission, Workflow
from automation.services import workflows as services
from integrations.models import WebhookEndpoint
from integrations.services import webhook_secret_set
from portal import perms
from portal.models import AuditEntry
from tests.automation.factories import (
    AppointmentFactory,
    CalendarFactory,
    FormFactory,
    SubmissionFactory,
)
from tests.factories import (
    ContactFactory,
    MembershipFactory,
    StripeConnectionFactory,
    WorkspaceFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def bright(owner):
    bright = WorkspaceFactory(name="Bright Smiles", slug="bright")
    MembershipFactory(user=owner, workspace=bright, roles=[perms.OWNER])
    return bright


@pytest.fixture
def acme_connection(workspace):
    return StripeConnectionFactory(workspace=workspace, account_name="Acme Dental")


@pytest.fixture
def bright_connection(bright):
    return StripeConnectionFactory(workspace=bright, account_name="Bright Smiles")


@pytest.fixture
def lead_form(workspace):
    form = FormFactory(workspace=workspace, name="Lead form", slug="acme-lead-form",
                       intro="Tell us about you", submission_limit=3,
                       submission_window_minutes=60)  # fmt: skip
    contact = ContactFactory(workspace=workspace, email="jane.lead@example.com")
    SubmissionFactory(form=form, contact=contact, data={"email": "jane.lead@example.com"})
    return form


@pytest.fixture
def workflow(workspace, lead_form, acme_connection):
    connection = str(acme_connection.uuid)
    definition = {
        "trigger": {"type": "form_submitted", "config": {"forms": [str(lead_form.uuid)]}},
        "steps": [
            {"key": "charge", "type": "stripe_one_time_charge", "name": "Charge the lead fee",
             "config": {"connection": connection, "customer_id": "cus_AcmeClient42",
                        "description": "Lead fee", "amount": 2500, "currency": "usd",
                        "amount_in_minor_units": False}},
            {"key": "if_else", "type": "if_else", "name": "Big lead?",
             "config": {"left": "{{ trigger.fields.lead_value }}", "operator": "greater_than",
                        "right": "100"},
             "then": [{"key": "refund", "type": "stripe_refund", "name": "Refund",
                       "config": {"connection": connection,
                                  "payment": "{{ steps.charge.id }}", "amount": "",
                                  "currency": "usd", "reason": "requested_by_customer"}}],
             "else": [{"key": "send_email", "type": "send_email", "name": "Tell the client",
                       "config": {"to": "client@acme.test", "subject": "New lead",
                                  "body": "{{ contact.name }}"}}]},
        ],
    }  # fmt: skip
    return Workflow.objects.create(
        workspace=workspace,
        name="Pay per lead",
        definition=definition,
        max_amount_per_charge=5000,
        max_amount_per_day=50000,
    )


def _copy_url(workflow):
    return reverse("workflow_copy", args=[workflow.workspace.slug, workflow.uuid])


def _counts():
    models = (Workflow, Form, Calendar, Submission, Appointment, AuditEntry)
    return {model.__name__: model.objects.count() for model in models}


def _config(workflow, key):
    return step_find(workflow.definition, key).step["config"]


# --- copy -------------------------------------------------------------------------------------


def test_the_copy_is_a_draft_in_the_destination_with_its_form_and_not_its_submissions(
    workflow, lead_form, bright, bright_connection, owner, as_user
):
    response = as_user(owner).post(_copy_url(workflow), {"destination": "bright"})

    made = Workflow.objects.get(workspace=bright)
    assert response.status_code == 302 and response["Location"] == made.get_absolute_url()
    assert made.name == "Pay per lead (copy)" and made.status == "draft"
    assert made.published_version is None and not made.versions.exists()
    assert (made.max_amount_per_charge, made.max_amount_per_day) == (5000, 50000)
    form = Form.objects.get(workspace=bright)
    assert form.slug == "acme-lead-form-2" and form.name == "Lead form"
    assert form.intro == "Tell us about you"
    assert (form.submission_limit, form.submission_window_minutes) == (3, 60)
    assert [(f.key, f.kind, f.required) for f in form.fields.all()] == [
        (f.key, f.kind, f.required) for f in lead_form.fields.all()
    ]
    assert made.definition["trigger"]["config"]["forms"] == [str(form.uuid)]
    assert not form.submissions.exists() and lead_form.submissions.count() == 1
    # The source is untouched.
    workflow.refresh_from_db()
    assert _config(workflow, "charge")["customer_id"] == "cus_AcmeClient42"


def test_a_calendar_the_trigger_uses_is_copied_with_its_hours_and_not_its_appointments(
    workspace, bright, owner
):
    calendar = CalendarFactory(workspace=workspace, slug="acme-cleaning", time_zone="Europe/Paris",
                               price_amount=7500)  # fmt: skip
    AppointmentFactory(calendar=calendar)
    workflow = Workflow.objects.create(workspace=workspace, name="Booked", definition={
        "trigger": {"type": "appointment_booked",
                    "config": {"calendars": [str(calendar.uuid)], "statuses": ["booked"]}},
        "steps": []})  # fmt: skip

    made = portable.workflow_copy(workflow=workflow, destination=bright, actor=owner)

    copy = Calendar.objects.get(workspace=bright)
    assert copy.slug == "acme-cleaning-2" and copy.time_zone == "Europe/Paris"
    assert copy.price_amount == 7500 and copy.slot_minutes == calendar.slot_minutes
    hours = [(a.weekday, a.start_time, a.end_time) for a in calendar.availability.all()]
    assert (
        hours and [(a.weekday, a.start_time, a.end_time) for a in copy.availability.all()] == hours
    )
    assert not copy.appointments.exists()
    config = made.definition["trigger"]["config"]
    assert config == {"calendars": [str(copy.uuid)], "statuses": ["booked"]}


def test_stripe_accounts_and_customer_ids_are_cleared_and_named_on_the_copys_builder(
    workflow, bright, bright_connection, owner, as_user
):
    client = as_user(owner)
    client.post(_copy_url(workflow), {"destination": "bright"})
    made = Workflow.objects.get(workspace=bright)

    assert "connection" not in _config(made, "charge") and "connection" not in _config(
        made, "refund"
    )
    assert _config(made, "charge")["customer_id"] == ""
    assert "cus_AcmeClient42" not in json.dumps(made.definition)
    notice = portable.choices_notice(made.definition)
    assert notice == (
        "Brought from another workspace: choose the Stripe account for steps “Charge the lead "
        "fee”, “Refund”; the customer ID of step “Charge the lead fee” was cleared."
    )
    html = client.get(made.get_absolute_url()).content.decode()
    assert "choose the Stripe account for steps “Charge the lead fee”, “Refund”" in html
    assert "the customer ID of step “Charge the lead fee” was cleared" in html
    assert "Before it can be published or tested" in html


def test_the_copy_cannot_be_published_until_the_account_and_customer_are_chosen(
    workflow, bright, bright_connection, owner, as_user
):
    client = as_user(owner)
    client.post(_copy_url(workflow), {"destination": "bright"})
    made = Workflow.objects.get(workspace=bright)
    publish = reverse("workflow_publish", args=["bright", made.uuid])

    client.post(publish, {"published": "on"})
    made.refresh_from_db()
    assert made.status == "draft" and not made.versions.exists()
    with pytest.raises(ValidationError) as refused:
        services.workflow_publish(workflow=made)
    assert any("Choose the Stripe account for steps" in m for m in refused.value.messages)

    # Choosing = saving each step with Bright's account (as the step panel does).
    for key, extra in (("charge", {"customer_id": "cus_BrightClient7"}), ("refund", {})):
        config = {k: v for k, v in _config(made, key).items() if k != portable.CLEARED}
        config.update(connection=str(bright_connection.uuid), **extra)
        services.step_update(workflow=made, key=key, name="x", config=config)
    assert services.workflow_problems(made) == []
    assert portable.choices_notice(made.definition) == ""
    client.post(publish, {"published": "on"})
    made.refresh_from_db()
    assert made.status == "published" and made.published_version.number == 1


def test_the_copy_page_lists_only_workspaces_where_the_member_builds_workflows(
    workflow, owner, as_user
):
    bright = WorkspaceFactory(name="Bright Smiles", slug="bright")
    cedar = WorkspaceFactory(name="Cedar Clinic", slug="cedar")
    MembershipFactory(user=owner, workspace=bright, roles=[perms.STAFF])  # workflow=edit
    MembershipFactory(user=owner, workspace=cedar, roles=[perms.VIEWER])  # no workflow=edit
    WorkspaceFactory(name="Delta Dental", slug="delta")  # not a member

    html = as_user(owner).get(_copy_url(workflow)).content.decode()

    # The choices of the form (the workspace switcher lists every membership).
    form = html.split('<form method="post" class="form"', 1)[1].split("</form>", 1)[0]
    assert 'value="bright"' in form and "Bright Smiles" in form
    assert "Cedar Clinic" not in form and "Delta Dental" not in form
    assert 'value="cedar"' not in form and 'value="acme"' not in form


@pytest.mark.parametrize("destination", ["cedar", "globex", "no-such-workspace"])
def test_a_forged_destination_is_404_and_copies_nothing(
    destination, workflow, owner, as_user, other_workspace
):
    cedar = WorkspaceFactory(name="Cedar Clinic", slug="cedar")
    MembershipFactory(user=owner, workspace=cedar, roles=[perms.VIEWER])
    before = _counts()

    response = as_user(owner).post(_copy_url(workflow), {"destination": destination})

    assert response.status_code == 404
    assert _counts() == before


def test_a_destination_asking_two_factor_sign_in_is_not_offered_to_an_unverified_session(
    workflow, bright, owner, as_user
):
    bright.require_two_factor = True
    bright.save()
    client = as_user(owner)
    assert 'value="bright"' not in client.get(_copy_url(workflow)).content.decode()
    before = _counts()
    assert client.post(_copy_url(workflow), {"destination": "bright"}).status_code == 404
    assert _counts() == before


def test_an_outsider_cannot_copy_another_workspaces_workflow(workflow, outsider, as_user):
    before = _counts()
    response = as_user(outsider).post(_copy_url(workflow), {"destination": "globex"})
    assert response.status_code == 404 and _counts() == before


def test_no_destination_chosen_says_so_and_copies_nothing(workflow, bright, owner, as_user):
    before = _counts()
    response = as_user(owner).post(_copy_url(workflow), {})
    assert response.status_code == 200
    assert "Choose the workspace to copy the workflow to." in response.content.decode()
    assert _counts() == before


def test_the_copy_is_audited_in_both_workspaces(workflow, workspace, bright, owner, as_user):
    as_user(owner).post(_copy_url(workflow), {"destination": "bright"})

    source = AuditEntry.objects.get(workspace=workspace, action=portable.AUDIT_COPY)
    target = AuditEntry.objects.get(workspace=bright, action=portable.AUDIT_COPY)
    assert source.actor == owner and target.actor == owner
    assert source.summary == "Copied Pay per lead to Bright Smiles as Pay per lead (copy)"
    assert target.summary == "Copied Pay per lead from Acme as Pay per lead (copy) (a draft)"
    assert target.changes["forms_copied"]["after"] == "Lead form"
    assert "stripe_account" in target.changes["to_choose"]["after"]
    log = as_user(owner).get(reverse("audit_log", args=["bright"])).content.decode()
    assert "Workflow copied between workspaces" in log  # the audit log names it


def test_a_trigger_with_its_own_endpoint_is_copied_without_its_signing_secret(
    workspace, bright, acme_connection, owner
):
    workflow = Workflow.objects.create(workspace=workspace, name="Charges", definition={
        "trigger": {"type": "stripe_charge_event",
                    "config": {"connection": str(acme_connection.uuid), "endpoint": "own"}},
        "steps": []})  # fmt: skip
    webhook_secret_set(connection=acme_connection, secret="whsec_ownTriggerSecret123",
                       trigger_key=f"workflow:{workflow.uuid}")  # fmt: skip

    made = portable.workflow_copy(workflow=workflow, destination=bright, actor=owner)

    assert made.definition["trigger"]["config"] == {
        "connection": "",
        "endpoint": "own",
        portable.CLEARED: {"connection": "stripe_account"},
    }
    # No endpoint, so no signing secret, came along.
    assert not WebhookEndpoint.objects.filter(trigger_key=f"workflow:{made.uuid}").exists()
    problems = services.workflow_problems(made)
    assert any("Choose the Stripe account for the trigger" in p for p in problems)
    assert any("has no signing secret yet" in p for p in problems)


def test_a_workflow_that_is_not_in_the_workspace_is_404(workflow, bright, owner, as_user):
    url = reverse("workflow_copy", args=["bright", workflow.uuid])
    assert as_user(owner).post(url, {"destination": "acme"}).status_code == 404


# --- export ------------------------------------------------------------------------------------


def _export(client, workflow):
    return client.get(reverse("workflow_export", args=[workflow.workspace.slug, workflow.uuid]))


def test_export_downloads_the_versioned_file_without_secrets_accounts_or_contacts(
    workflow, workspace, acme_connection, lead_form, owner, as_user
):
    trigger = Workflow.objects.create(workspace=workspace, name="Own endpoint", definition={
        "trigger": {"type": "stripe_payment_event",
                    "config": {"connection": str(acme_connection.uuid), "endpoint": "own"}},
        "steps": [{"key": "charge", "type": "stripe_one_time_charge", "name": "Charge",
                   "config": {**_config(workflow, "charge"),
                              "description": "paid with sk_test_leaked12345"}}]})  # fmt: skip
    webhook_secret_set(connection=acme_connection, secret="whsec_ownTriggerSecret123",
                       trigger_key=f"workflow:{trigger.uuid}")  # fmt: skip
    client = as_user(owner)

    for source in (workflow, trigger):
        response = _export(client, source)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json; charset=utf-8"
        text = response.content.decode()
        for secret in ("whsec_", "sk_", "rk_", "cus_", str(acme_connection.uuid),
                       acme_connection.account_id, "jane.lead@example.com"):  # fmt: skip
            assert secret not in text, secret
    name = 'attachment; filename="pay-per-lead.workflow.json"'
    assert _export(client, workflow)["Content-Disposition"] == name
    data = json.loads(_export(client, workflow).content)
    assert (data["format"], data["version"]) == ("agency-portal.workflow", 1)
    assert data["workflow"]["name"] == "Pay per lead"
    assert data["workflow"]["definition"]["trigger"]["config"]["forms"] == ["form-1"]
    assert [f["slug"] for f in data["forms"]] == ["acme-lead-form"] and data["calendars"] == []
    email = {"label": "E-mail", "key": "email", "kind": "email", "maps_to": "email",
             "required": True, "choices": []}  # fmt: skip
    assert data["forms"][0]["fields"][1] == email


def test_export_then_import_gives_the_same_definition_but_the_cleared_fields(
    workflow, workspace, bright, bright_connection, owner, as_user
):
    client = as_user(owner)
    exported = _export(client, workflow).content
    upload = SimpleUploadedFile("pay-per-lead.workflow.json", exported, "application/json")

    response = client.post(reverse("workflow_import", args=["bright"]), {"file": upload})

    made = Workflow.objects.get(workspace=bright)
    assert response.status_code == 302 and response["Location"] == made.get_absolute_url()
    assert made.name == "Pay per lead" and made.status == "draft"
    form = Form.objects.get(workspace=bright)
    original, imported = workflow.definition, made.definition

    def normalized(definition, form, cleared):
        """The definition with the form's uuid and the fields cleared taken out."""
        data = json.loads(json.dumps(definition).replace(str(form.uuid), "FORM"))
        for placed in steps_walk(data):
            config = placed.step["config"]
            for name in [*cleared[placed.step["key"]], portable.CLEARED]:
                config.pop(name, None)
        return data

    lead_form = Form.objects.get(workspace=workspace)
    cleared = {p.step["key"]: p.step["config"].get(portable.CLEARED, {})
               for p in steps_walk(imported)}  # fmt: skip
    assert cleared == {"charge": {"connection": "stripe_account", "customer_id": "customer"},
                       "if_else": {}, "refund": {"connection": "stripe_account"},
                       "send_email": {}}  # fmt: skip
    assert normalized(imported, form, cleared) == normalized(original, lead_form, cleared)
    assert portable.choices_notice(imported).startswith("Brought from another workspace: choose")
    assert (made.max_amount_per_charge, made.max_amount_per_day) == (5000, 50000)
    entry = AuditEntry.objects.get(workspace=bright, action=portable.AUDIT_IMPORT)
    assert entry.summary == "Imported Pay per lead from a file (a draft)" and entry.actor == owner


# --- import: every bad file is refused whole -----------------------------------------------


def _good(workflow) -> dict:
    return portable.bundle_build(workflow)


def _with(workflow, change) -> bytes:
    data = _good(workflow)
    change(data)
    return json.dumps(data).encode()


def _step(data, index=0):
    return data["workflow"]["definition"]["steps"][index]


BAD_FILES = {
    "not JSON": (lambda w: b"{'format': nope", "This file is not JSON: "),
    "not text": (lambda w: b"\xff\xfe\x00garbage", "This file is not JSON: it is not even text"),
    "another format": (
        lambda w: json.dumps({"format": "n8n.workflow", "version": 1}).encode(),
        "This is not a workflow export: its “format” should be “agency-portal.workflow”.",
    ),
    "a JSON list": (lambda w: b"[1, 2]", "This is not a workflow export"),
    "unsupported version": (
        lambda w: _with(w, lambda d: d.update(version=2)),
        "This file is in version 2 of the workflow format; this portal reads version 1.",
    ),
    "unknown trigger": (
        lambda w: _with(w, lambda d: d["workflow"]["definition"]["trigger"].update(type="zap")),
        "The trigger type 'zap' is unknown to this portal",
    ),
    "unknown action": (
        lambda w: _with(w, lambda d: _step(d).update(type="stripe_payout")),
        "Step “Charge the lead fee” uses the action 'stripe_payout', which this portal does "
        "not have.",
    ),
    "a step that is not an object": (
        lambda w: _with(w, lambda d: d["workflow"]["definition"]["steps"].append("charge")),
        "Step 3 is not an object with key, type, name and config.",
    ),
    "a step without config": (
        lambda w: _with(w, lambda d: _step(d).pop("config")),
        "Step “Charge the lead fee” has no “config” object.",
    ),
    "a branch on a step that has none": (
        lambda w: _with(w, lambda d: _step(d).update(then=[])),
        "Step “Charge the lead fee” has a “then” branch, but only if/else has one.",
    ),
    "an if/else without its else": (
        lambda w: _with(w, lambda d: _step(d, 1).pop("else")),
        "Step “Big lead?” needs its “else” list of steps.",
    ),
    "a bad step key": (
        lambda w: _with(w, lambda d: _step(d).update(key="../charge")),
        "its key must be 1 to 80 letters, digits, - or _.",
    ),
    "duplicate step keys": (
        lambda w: _with(w, lambda d: _step(d, 1)["then"][0].update(key="charge")),
        "Two steps have the key “charge”: step keys must be unique",
    ),
    "too large": (
        lambda w: _with(w, lambda d: d.update(padding="x" * 1_000_001)),
        "The file is too large (",
    ),
    "a secret": (
        lambda w: _with(w, lambda d: _step(d)["config"].update(note="whsec_abc123")),
        "The file holds a Stripe secret (whsec_…): secrets are never imported.",
    ),
    "a form the trigger names but the file lacks": (
        lambda w: _with(w, lambda d: d.update(forms=[])),
        "The trigger names forms that are not in the file: form-1.",
    ),
    "a form without an e-mail field": (
        lambda w: _with(w, lambda d: d["forms"][0].update(fields=d["forms"][0]["fields"][:1])),
        "Form “Lead form”: it needs a required e-mail field mapped to the contact's e-mail.",
    ),
    "a form's submission limit out of range": (
        lambda w: _with(w, lambda d: d["forms"][0].update(submission_limit=0)),
        "Form “Lead form”: its submission_limit must be a whole number from 1 to 1000.",
    ),
    "bad safety settings": (
        lambda w: _with(w, lambda d: d["workflow"]["settings"].update(max_amount_per_day=-5)),
        "Safety setting max_amount_per_day must be a positive whole number",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_a_bad_file_is_refused_next_to_the_field_and_creates_nothing(
    case, workflow, bright, owner, as_user
):
    make, message = BAD_FILES[case]
    upload = SimpleUploadedFile("bad.workflow.json", make(workflow), "application/json")
    before = _counts()

    response = as_user(owner).post(reverse("workflow_import", args=["bright"]), {"file": upload})

    assert response.status_code == 200
    html = response.content.decode()
    errors = html.split('class="errorlist', 1)[-1].split("</ul>", 1)[0]
    assert 'class="errorlist' in html
    assert message.replace("'", "&#x27;") in errors, errors
    assert 'id="id_file"' in html
    assert _counts() == before


def test_no_file_chosen_says_so(bright, owner, as_user):
    response = as_user(owner).post(reverse("workflow_import", args=["bright"]), {})
    assert "Choose the workflow file to import." in response.content.decode()


def test_a_failure_while_creating_leaves_nothing_half_created(
    workflow, workspace, bright, owner, monkeypatch
):
    calendar = CalendarFactory(workspace=workspace)
    workflow.definition["trigger"] = {"type": "appointment_booked",
                                      "config": {"calendars": [str(calendar.uuid)]}}  # fmt: skip
    bundle = portable.bundle_build(workflow)
    # The stored workflow's form too: created first, it must not outlive the failure.
    bundle["forms"] = portable.bundle_build(Workflow.objects.get(pk=workflow.pk))["forms"]
    assert bundle["forms"] and bundle["calendars"]

    def taken(*args, **kwargs):
        raise IntegrityError("calendar_unique_slug")

    monkeypatch.setattr(portable, "_calendar_create", taken)
    before = _counts()
    with pytest.raises(ValidationError, match="nothing was created"):
        portable.workflow_import(workspace=bright, bundle=bundle, actor=owner)
    assert _counts() == before  # the form made before the calendar is gone too


def test_the_list_offers_import_and_copy(workflow, owner, as_user):
    html = as_user(owner).get(reverse("workflow_list", args=["acme"])).content.decode()
    assert reverse("workflow_import", args=["acme"]) in html
    assert _copy_url(workflow) in html
