"""A test run e-mails no one but the member running it: a Send e-mail step goes to them, marked
with the address it would have gone to, and Send payment link e-mails no customer."""

from __future__ import annotations

from automation.models import Run
from automation.services import workflows as services
from tests.factories import ContactFactory


def _draft(workspace, steps: list[tuple[str, dict]]):
    workflow = services.workflow_create(workspace=workspace, name="Welcome")
    services.trigger_set(workflow=workflow, type="manual", config={})
    for type_, config in steps:
        step = services.step_add(workflow=workflow, type=type_)
        services.step_update(workflow=workflow, key=step["key"], name=type_, config=config)
    workflow.refresh_from_db()
    return workflow


MAIL = {
    "to": "{{ contact.email }}",
    "subject": "Welcome {{ contact.name }}",
    "body": "Thanks for your interest.",
}


def _test_run(workflow, contact, member, capture) -> Run:
    with capture(execute=True):
        run = services.test_run_start(workflow=workflow, contact=contact, started_by=member)
    return Run.objects.get(pk=run.pk)


def test_a_test_run_mails_the_member_who_started_it_not_the_address(
    workspace, owner, mailoutbox, django_capture_on_commit_callbacks
):
    lead = ContactFactory(workspace=workspace, name="Jane", email="jane@example.com")
    fixed = MAIL | {"to": "client@elsewhere.test"}
    workflow = _draft(workspace, [("send_email", MAIL), ("send_email", fixed)])
    run = _test_run(workflow, lead, owner, django_capture_on_commit_callbacks)

    assert run.status == "succeeded", run.error_message
    assert [m.to for m in mailoutbox] == [[owner.email], [owner.email]]
    first = mailoutbox[0]
    assert first.subject == "[Test run] Welcome Jane"
    assert first.body.startswith("Test run: this would have been sent to jane@example.com")
    assert "Thanks for your interest." in first.body
    assert "would have been sent to client@elsewhere.test" in mailoutbox[1].body
    outputs = [step.outputs for step in run.steps.order_by("position")]
    assert outputs[0]["to"] == "jane@example.com" and outputs[0]["sent_to"] == owner.email
    assert "this would have been sent to jane@example.com" in outputs[0]["note"]


def test_a_test_run_nobody_started_sends_nothing(
    workspace, mailoutbox, django_capture_on_commit_callbacks
):
    lead = ContactFactory(workspace=workspace, email="jane@example.com")
    workflow = _draft(workspace, [("send_email", MAIL)])
    run = _test_run(workflow, lead, None, django_capture_on_commit_callbacks)
    assert run.status == "succeeded" and mailoutbox == []
    assert "not sent" in run.steps.get().outputs["note"]


def test_a_published_run_still_mails_the_address(workspace, trigger_run, mailoutbox):
    from tests.automation.conftest import publish

    lead = ContactFactory(workspace=workspace, name="Jane", email="jane@example.com")
    publish(workspace, [{"key": "mail", "type": "send_email", "name": "Hi", "config": MAIL}])
    run = trigger_run(workspace, contact=lead)
    assert run.status == "succeeded"
    assert [m.to for m in mailoutbox] == [["jane@example.com"]]
    assert mailoutbox[0].subject == "Welcome Jane"
    assert run.steps.get().outputs["sent_to"] == "jane@example.com"


def test_a_test_run_of_send_payment_link_e_mails_no_customer(
    workspace, connection, owner, mailoutbox, django_capture_on_commit_callbacks
):
    from billing.models import PaymentLink

    lead = ContactFactory(workspace=workspace, email="jane@example.com")
    link = {"amount": "49.99", "currency": "usd", "description": "Your booking"}
    workflow = _draft(workspace, [("send_payment_link", link)])
    run = _test_run(workflow, lead, owner, django_capture_on_commit_callbacks)
    assert run.status == "succeeded", run.error_message
    assert mailoutbox == [] and not PaymentLink.objects.exists()
    assert "would have been e-mailed to jane@example.com" in run.steps.get().outputs["note"]


def test_the_run_page_says_where_a_test_runs_e_mails_went(
    workspace, owner, as_user, mailoutbox, django_capture_on_commit_callbacks
):
    lead = ContactFactory(workspace=workspace, email="jane@example.com")
    run = _test_run(
        _draft(workspace, [("send_email", MAIL)]), lead, owner, django_capture_on_commit_callbacks
    )
    page = as_user(owner).get(run.get_absolute_url()).text
    assert f"Sent to {owner.email} only, who started the test" in page
