"""`manage.py perf_data`: the large workspace of the list benchmarks, here at a small size."""

from __future__ import annotations

import io

from django.core.management import call_command
from django.db.models import Count, Max, Min
from django.test import Client
from django.urls import reverse

from automation.models import Run, StepRun, Workflow
from billing.models import Payment, PaymentLink
from integrations.models import StripeEvent
from invoices.models import Invoice, InvoiceLine, WorkItem
from portal.management.commands.perf_data import OWNER, PASSWORD, PAYER
from portal.models import Contact, Workspace
from tests.perf_pages.rows import table_rows

SMALL = ["--runs", "20", "--step-runs", "200", "--payments", "20", "--contacts", "5",
         "--invoices", "10", "--events", "30"]  # fmt: skip


def _generate(*args) -> str:
    out = io.StringIO()
    call_command("perf_data", *SMALL, *args, stdout=out)
    return out.getvalue()


def _counts(workspace) -> dict[str, int]:
    return {
        "contacts": Contact.objects.filter(workspace=workspace).count(),
        "runs": Run.objects.filter(workspace=workspace).count(),
        "step runs": StepRun.objects.filter(run__workspace=workspace).count(),
        "payments": Payment.objects.filter(workspace=workspace).count(),
        "links": PaymentLink.objects.filter(workspace=workspace).count(),
        "invoices": Invoice.objects.filter(workspace=workspace).count(),
        "lines": InvoiceLine.objects.filter(invoice__workspace=workspace).count(),
        "open items": WorkItem.objects.filter(workspace=workspace, status="open").count(),
        "events": StripeEvent.objects.filter(endpoint__connection__workspace=workspace).count(),
    }


def _login(username: str) -> Client:
    client = Client()
    response = client.post(reverse("login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 302, f"{username} cannot log in"
    return client


def _rows(response) -> int:
    return table_rows(response.content.decode())


def test_it_makes_the_rows_asked_for_and_prints_what_it_did(db):
    out = _generate()
    workspace = Workspace.objects.get(slug="perf")
    assert _counts(workspace) == {
        "contacts": 5, "runs": 20, "step runs": 200, "payments": 20, "links": 2, "invoices": 10,
        "lines": 20, "open items": 8, "events": 30,
    }  # fmt: skip
    workflow = Workflow.objects.get(workspace=workspace)
    assert workflow.status == "published"
    assert len(workflow.published_version.definition["steps"]) == 10
    # Ten step runs per run, one per step of the version the run executed.
    per_run = Run.objects.filter(workspace=workspace).annotate(n=Count("steps"))
    assert set(per_run.values_list("n", flat=True)) == {10}
    # Runs and payments are spread over 90 days, so the chart and date filters have data.
    span = Run.objects.filter(workspace=workspace).aggregate(
        a=Min("created_at"), b=Max("created_at")
    )
    assert 80 <= (span["b"] - span["a"]).days < 90
    assert "step runs (of 20 runs):     200" in out and PASSWORD in out
    assert workspace.stripe_connections.get().is_default


def test_the_owner_logs_in_and_sees_the_runs_and_the_payer_the_work_items(db):
    _generate()
    workspace = Workspace.objects.get(slug="perf")
    workflow = Workflow.objects.get(workspace=workspace)
    owner = _login(OWNER)
    response = owner.get(reverse("run_list", args=["perf", workflow.uuid]))
    assert response.status_code == 200 and _rows(response) == 20
    assert b"Your card was declined." in response.content  # a failed run, with its error
    assert _rows(owner.get(reverse("payment_list", args=["perf"]))) == 20
    payer = _login(PAYER)
    assert _rows(payer.get(reverse("work_item_list", args=["perf"]))) == 8


def test_running_it_again_reuses_the_workspace_and_adds_nothing(db):
    _generate()
    workspace = Workspace.objects.get(slug="perf")
    before = _counts(workspace)
    out = _generate()
    assert "exists: nothing created" in out
    assert _counts(workspace) == before
    _generate("--workspace", "perf-2")  # another workspace: the same logins, their own rows
    assert _counts(Workspace.objects.get(slug="perf-2")) == before
    workflow = Workflow.objects.get(workspace__slug="perf-2")
    response = _login(OWNER).get(reverse("run_list", args=["perf-2", workflow.uuid]))
    assert response.status_code == 200 and _rows(response) == 20
