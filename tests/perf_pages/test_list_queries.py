"""Every list page makes as many queries at 500 rows as at 1 and renders one page of at most
100 rows with a link to the next (benchmark 5 in tests/perf/README.md).

The rows are made by the builders of `manage.py perf_data` and are realistic (runs with their
step runs and contacts, payments with contacts and links, invoices with lines and work items
assigned to the payer, events of an endpoint), so a template that reaches for a related row
per line (`run.workspace`, `payment.contact`, ...) shows up as more queries at 500 rows.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection as db
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from automation.models import Appointment, Calendar, Form, Submission, Workflow, WorkflowVersion
from billing.models import ReconciliationRun
from invoices.models import ScopeType
from invoices.services import payment_process_save
from portal import perms
from portal.management.commands.perf_data import (
    connection_add,
    contacts_add,
    events_add,
    invoices_add,
    links_add,
    payments_add,
    runs_add,
    workflow_add,
)
from portal.models import AuditEntry, Membership
from portal.pagination import MAX_PAGE_SIZE, paginate
from tests.automation.factories import CalendarFactory, FormFactory
from tests.factories import UserFactory
from tests.perf_pages.rows import table_rows

STEPS = 10  # step runs per run


@dataclass
class Scene:
    """The acme workspace with what its lists hang from (no rows of any list yet)."""

    workspace: object
    owner: object
    payer: object
    connection: object
    endpoint: object
    workflow: Workflow
    form: Form
    calendar: Calendar


@pytest.fixture
def scene(workspace, org_units, owner, payer):
    role = workspace.roles.get(name=perms.INVOICE_PAYER)
    unit = org_units["/acme"]
    payment_process_save(workspace=workspace, assignee_name="Invoice payers", org_unit=unit,
                         scope_type=ScopeType.TREE, role=role)  # fmt: skip
    connection, endpoint = connection_add(workspace)
    return Scene(workspace, owner, payer, connection, endpoint,
                 workflow_add(workspace, steps=STEPS), FormFactory(workspace=workspace),
                 CalendarFactory(workspace=workspace))  # fmt: skip


def _people(scene: Scene, n: int):
    """A contact for every few rows, as in a real workspace."""
    return contacts_add(scene.workspace, max(1, n // 5))


def _runs(scene: Scene, n: int) -> None:
    runs_add(scene.workflow, n, step_runs=n * STEPS, contacts=_people(scene, n))


def _payments(scene: Scene, n: int) -> None:
    payments_add(scene.workspace, scene.connection, n, contacts=_people(scene, n))
    links_add(scene.workspace, scene.connection, n, contacts=_people(scene, n))


def _links(scene: Scene, n: int) -> None:
    _payments(scene, n)


def _invoices(scene: Scene, n: int) -> None:
    invoices_add(scene.workspace, n, contacts=_people(scene, n))


def _workflows(scene: Scene, n: int) -> None:
    """Published workflows, each with a run (the list shows the last one)."""
    source = scene.workflow
    workflows = Workflow.objects.bulk_create(
        Workflow(workspace=scene.workspace, name=f"Workflow {i}", status=Workflow.Status.PUBLISHED,
                 definition=source.definition)
        for i in range(n)
    )  # fmt: skip
    versions = WorkflowVersion.objects.bulk_create(
        WorkflowVersion(workflow=w, number=1, definition=source.definition, trigger_type="manual")
        for w in workflows
    )  # fmt: skip
    for workflow, version in zip(workflows, versions, strict=True):
        workflow.published_version = version
    Workflow.objects.bulk_update(workflows, ["published_version"])
    for workflow in workflows:
        runs_add(workflow, 1, step_runs=0, contacts=[])


def _submissions(scene: Scene, n: int) -> None:
    contacts = _people(scene, n)
    Submission.objects.bulk_create(
        Submission(workspace=scene.workspace, form=scene.form, contact=contacts[i % len(contacts)],
                   data={"name": "Jane", "email": "jane@example.com", "lead_value": i},
                   submitted_at=timezone.now())
        for i in range(n)
    )  # fmt: skip


def _appointments(scene: Scene, n: int) -> None:
    contacts = _people(scene, n)
    first = timezone.now() + timedelta(days=1, minutes=30 * scene.calendar.appointments.count())
    Appointment.objects.bulk_create(
        Appointment(workspace=scene.workspace, calendar=scene.calendar,
                    contact=contacts[i % len(contacts)], name="Jane", email="jane@example.com",
                    starts_at=first + timedelta(minutes=30 * i),
                    ends_at=first + timedelta(minutes=30 * i + 30), price_amount=4999)
        for i in range(n)
    )  # fmt: skip


def _members(scene: Scene, n: int) -> None:
    role = scene.workspace.roles.get(name=perms.STAFF)
    unit = scene.workspace.org_units.first()
    for _ in range(n):
        member = Membership.objects.create(user=UserFactory(), workspace=scene.workspace,
                                           org_unit=unit)  # fmt: skip
        member.roles.add(role)


def _audit_entries(scene: Scene, n: int) -> None:
    """Entries by several people and workflows, as charges and role changes make them."""
    AuditEntry.objects.bulk_create(
        AuditEntry(workspace=scene.workspace, workspace_name=scene.workspace.name,
                   workspace_slug=scene.workspace.slug, actor=scene.owner if i % 2 else None,
                   actor_label=scene.owner.email if i % 2 else f"workflow Flow {i % 7}",
                   address="203.0.113.9", action=AuditEntry.Action.PAYMENT_CHARGE,
                   summary=f"Charge of $49.99 to Contact {i}",
                   changes={"amount": {"before": None, "after": "$49.99"}})
        for i in range(n)
    )  # fmt: skip


def _reconciliations(scene: Scene, n: int) -> None:
    difference = {"kind": "missing", "message": "Unknown.", "repaired": False,
                  "payment_intent": "pi_1", "amount": 4999, "currency": "usd"}  # fmt: skip
    ReconciliationRun.objects.bulk_create(
        ReconciliationRun(workspace=scene.workspace, connection=scene.connection, origin="command",
                          since=timezone.now(), finished_at=timezone.now(), intents_checked=3,
                          differences=[difference])
        for _ in range(n)
    )  # fmt: skip


def _forms(scene: Scene, n: int) -> None:
    Form.objects.bulk_create(
        Form(workspace=scene.workspace, name=f"Form {i}", slug=f"form-{uuid.uuid4().hex}")
        for i in range(n)
    )


def _calendars(scene: Scene, n: int) -> None:
    for _ in range(n):
        CalendarFactory(workspace=scene.workspace)


@dataclass(frozen=True)
class Page:
    add: Callable[[Scene, int], None]  # adds n rows to the list
    user: str = "owner"
    kwargs: Callable[[Scene], dict] = lambda scene: {}


LISTS = {
    "contact_list": Page(lambda scene, n: contacts_add(scene.workspace, n)),
    "workflow_list": Page(_workflows),
    "run_list": Page(_runs, kwargs=lambda scene: {"workflow_uuid": scene.workflow.uuid}),
    "stripe_event_list": Page(lambda scene, n: events_add(scene.endpoint, n)),
    "payment_list": Page(_payments),
    "payment_link_list": Page(_links),
    "invoice_list": Page(_invoices),
    "work_item_list": Page(_invoices, user="payer"),
    "form_list": Page(_forms),
    "form_submission_list": Page(_submissions, kwargs=lambda scene: {"form_uuid": scene.form.uuid}),
    "calendar_list": Page(_calendars),
    "appointment_list": Page(_appointments),
    "member_list": Page(_members),
    "reconciliation_list": Page(_reconciliations),
    "audit_log": Page(_audit_entries),
}


@pytest.mark.parametrize("name", sorted(LISTS))
def test_the_list_makes_as_many_queries_at_500_rows_as_at_1(
    name, scene, as_user, django_assert_num_queries
):
    page = LISTS[name]
    client = as_user(getattr(scene, page.user))
    url = reverse(name, kwargs={"ws": scene.workspace.slug, **page.kwargs(scene)})
    page.add(scene, 1)
    assert client.get(url).status_code == 200  # the session and the caches are warm now
    with CaptureQueriesContext(db) as at_one:
        assert table_rows(client.get(url).content.decode()) >= 1
    queries_at_one = len(at_one.captured_queries)  # a request empties Django's query log
    page.add(scene, 499)
    client.get(url)  # what a page keeps in the cache under the rows' state (the chart) again
    with django_assert_num_queries(queries_at_one):
        response = client.get(url)
    html = response.content.decode()
    assert table_rows(html) == settings.PORTAL_PAGE_SIZE <= MAX_PAGE_SIZE
    assert re.search(r'href="\?[^"]*page=2"', html), "no link to the next page"


def test_the_list_pages_cover_every_paginated_workspace_list():
    """A list added later gets a row here: every view that paginates is in LISTS."""
    from tests.test_access import PAGES

    lists = {name for name in PAGES if name.endswith("_list")}
    # Roles and org units are short settings lists; Stripe customers are read from Stripe.
    assert lists - set(LISTS) == {"role_list", "org_unit_list", "stripe_customer_list"}


def test_no_page_is_longer_than_100_rows_whatever_the_setting(settings):
    settings.PORTAL_PAGE_SIZE = 1000
    request = RequestFactory().get("/", {"page": "2"})
    page = paginate(request, list(range(500)))
    assert MAX_PAGE_SIZE == 100
    assert len(page.object_list) == 100 and page.number == 2 and page.has_next()
