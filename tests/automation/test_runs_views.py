"""Enrollment history: the list with filters and pagination, a run's step timeline with its
Stripe ids, polling while it runs, and retrying a failed run from its failed step."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from automation.models import Run, StepRun
from automation.services import workflows as services
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def workflow(workspace):
    workflow = services.workflow_create(workspace=workspace, name="Pay per lead")
    services.trigger_set(workflow=workflow, type="manual", config={})
    return workflow


def _run(workflow, **fields):
    fields.setdefault("cause", f"c:{Run.objects.count()}")
    fields.setdefault("test_definition", workflow.definition)
    return Run.objects.create(
        workspace=workflow.workspace, workflow=workflow, is_test=True, trigger_type="manual",
        **fields,
    )  # fmt: skip


def _list(workflow):
    return reverse("run_list", args=["acme", workflow.uuid])


def test_list_filters_by_status_date_and_contact(workflow, workspace, owner, as_user):
    jane = ContactFactory(workspace=workspace, name="Jane Cooper", email="jane@example.com")
    _run(workflow, status="failed", contact=jane, error_code="PAYMENT_REQUIRED")
    old = _run(workflow, status="succeeded")
    Run.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=10))
    client = as_user(owner)
    html = client.get(_list(workflow)).content.decode()
    assert html.count("wf-status-") >= 2 and "PAYMENT_REQUIRED" in html
    html = client.get(_list(workflow), {"status": "succeeded"}).content.decode()
    assert "PAYMENT_REQUIRED" not in html and "Succeeded" in html
    html = client.get(_list(workflow), {"contact": "jane"}).content.decode()
    assert "Jane Cooper" in html and "PAYMENT_REQUIRED" in html
    since = (timezone.localdate() - dt.timedelta(days=2)).isoformat()
    html = client.get(_list(workflow), {"since": since}).content.decode()
    assert "PAYMENT_REQUIRED" in html and html.count("<tr>") == 2  # header + one run


def test_list_paginates_and_keeps_the_filters(workflow, owner, as_user, settings):
    settings.PORTAL_PAGE_SIZE = 2
    for _ in range(3):
        _run(workflow, status="failed")
    html = as_user(owner).get(_list(workflow), {"status": "failed"}).content.decode()
    assert "Page 1 of 2" in html and "status=failed&amp;page=2" in html


def test_list_htmx_partial(workflow, owner, as_user):
    _run(workflow)
    response = as_user(owner).get(
        _list(workflow), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="run-results"
    )
    html = response.content.decode()
    assert "<html" not in html and 'id="run-results"' in html


def test_detail_shows_the_steps_and_their_stripe_ids(workflow, owner, as_user):
    run = _run(workflow, status="succeeded")
    StepRun.objects.create(
        run=run,
        step_key="charge",
        step_type="stripe_one_time_charge",
        name="Charge the fee",
        status="succeeded",
        attempts=1,
        inputs={"amount": 4999},
        outputs={"id": "pi_3Abc123", "latest_charge": "ch_3Abc123", "customer": "cus_Jane"},
    )
    html = as_user(owner).get(run.get_absolute_url()).content.decode()
    assert "Charge the fee" in html and "<code>pi_3Abc123</code>" in html
    assert "<code>ch_3Abc123</code>" in html and "<code>cus_Jane</code>" in html
    assert 'hx-trigger="every 1s"' not in html  # finished: no polling


def test_a_running_run_polls_and_its_partial_has_no_page(workflow, owner, as_user):
    run = _run(workflow, status="running")
    client = as_user(owner)
    assert 'hx-trigger="every 1s"' in client.get(run.get_absolute_url()).content.decode()
    partial = client.get(run.get_absolute_url(), HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and 'id="run-live"' in partial


def test_detail_shows_the_error_and_a_retry_button(workflow, owner, as_user):
    run = _run(workflow, status="failed", error_code="PROVIDER_ERROR", error_message="Stripe 500")
    StepRun.objects.create(
        run=run,
        step_key="charge",
        step_type="stripe_one_time_charge",
        name="Charge",
        status="failed",
        attempts=3,
        error_code="PROVIDER_ERROR",
        error_message="Stripe 500",
    )
    html = as_user(owner).get(run.get_absolute_url()).content.decode()
    assert "PROVIDER_ERROR" in html and "Retry from the failed step" in html


def test_retry_requeues_a_failed_run(workflow, owner, as_user, django_capture_on_commit_callbacks):
    run = _run(workflow, status="failed", error_code="PROVIDER_ERROR")
    StepRun.objects.create(
        run=run,
        step_key="charge",
        step_type="stripe_one_time_charge",
        name="Charge",
        status="failed",
    )
    url = reverse("run_retry", args=["acme", workflow.uuid, run.uuid])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = as_user(owner).post(url)
    assert response["Location"] == run.get_absolute_url()
    run.refresh_from_db()
    assert run.status == Run.Status.QUEUED and run.error_code == ""
    assert run.steps.get().status == StepRun.Status.RETRYING
    assert len(callbacks) == 1  # handed to the worker on commit


def test_retrying_a_run_that_did_not_fail_says_so(workflow, owner, as_user):
    run = _run(workflow, status="succeeded")
    url = reverse("run_retry", args=["acme", workflow.uuid, run.uuid])
    response = as_user(owner).post(url, follow=True)
    assert "Only a failed run can be retried" in response.content.decode()
    run.refresh_from_db()
    assert run.status == Run.Status.SUCCEEDED


def test_runs_of_another_workspace_are_404(workflow, outsider, as_user):
    run = _run(workflow, status="failed")
    client = as_user(outsider)
    assert client.get(run.get_absolute_url()).status_code == 404
    url = reverse("run_retry", args=["acme", workflow.uuid, run.uuid])
    assert client.post(url).status_code == 404


def test_a_running_run_lists_the_steps_still_to_come(workflow, owner, as_user):
    """The timeline shows what is next: after a decided if/else only its taken side."""
    charge = {"key": "charge", "type": "stripe_one_time_charge", "name": "Charge the fee"}
    tag = {"key": "tag", "type": "update_contact", "name": "Tag as small"}
    decide = {"key": "decide", "type": "if_else", "name": "Big lead?", "then": [charge],
              "else": [tag]}  # fmt: skip
    steps = [{"key": "check", "type": "filter", "name": "Has an e-mail"}, decide,
             {"key": "mail", "type": "send_email", "name": "Thank them"}]  # fmt: skip
    definition = {"trigger": {"type": "manual", "config": {}}, "steps": steps}
    run = _run(workflow, status="running", test_definition=definition)
    client = as_user(owner)
    page = client.get(run.get_absolute_url()).content.decode()
    assert "Still to come" in page
    for name in ("Has an e-mail", "Big lead?", "Charge the fee", "Tag as small", "Thank them"):
        assert name in page
    assert "only on the “Yes” branch of “Big lead?”" in page

    StepRun.objects.create(run=run, step_key="check", step_type="filter", name="Has an e-mail",
                           status="succeeded")  # fmt: skip
    StepRun.objects.create(run=run, step_key="decide", step_type="if_else", name="Big lead?",
                           status="succeeded", outputs={"branch": "else"}, position=1)  # fmt: skip
    page = client.get(run.get_absolute_url(), HTTP_HX_REQUEST="true").content.decode()
    to_come = page.split("Still to come")[1]
    assert "Tag as small" in to_come and "Thank them" in to_come
    assert "Charge the fee" not in page and "Has an e-mail" not in to_come

    Run.objects.filter(pk=run.pk).update(status="succeeded")
    assert "Still to come" not in client.get(run.get_absolute_url()).content.decode()
