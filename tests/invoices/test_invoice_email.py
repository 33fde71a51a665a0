"""Processing an invoice e-mails each of its work item's payers once: HTML and text, the
invoice's lines, a "View and pay" button to the item's pay page, each at their own clock."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from invoices.models import ScopeType, WorkItem
from invoices.services import (
    invoice_issue,
    invoice_process,
    invoice_save,
    payment_process_save,
    work_item_payers_notify,
)
from portal import perms
from portal.models import UserPreferences
from tests.conftest import _member
from tests.factories import ContactFactory
from tests.portal.test_emails_html import button, parts

pytestmark = pytest.mark.django_db

PROCESSED_AT = dt.datetime(2030, 1, 7, 15, tzinfo=dt.UTC)  # 9 a.m. in Chicago


@pytest.fixture
def site_url(settings):
    settings.SITE_URL = "https://portal.example"
    return settings.SITE_URL


def _process(workspace, unit, scope=ScopeType.UNIT):
    payment_process_save(
        workspace=workspace, assignee_name="Invoice payers", org_unit=unit, scope_type=scope,
        role=workspace.roles.get(name=perms.INVOICE_PAYER),
    )  # fmt: skip


@pytest.fixture
def invoice(workspace, org_units):
    workspace.time_zone = "Europe/Berlin"
    workspace.save()
    _process(workspace, org_units["/acme/Branch A"])
    invoice = invoice_save(
        workspace=workspace, contact=ContactFactory(workspace=workspace, name="Branch A clinic"),
        org_unit=org_units["/acme/Branch A"], currency="usd", due_date=dt.date(2030, 2, 1),
        notes="Leads of November", lines=[
            {"description": "Qualified lead", "quantity": 10, "unit_price": 1500},
            {"description": "Setup", "quantity": 1, "unit_price": 5000},
        ],
    )  # fmt: skip
    return invoice_issue(invoice=invoice)


def _processed(invoice, capture) -> WorkItem:
    with time_machine.travel(PROCESSED_AT, tick=False), capture(execute=True):
        return invoice_process(invoice=invoice)


def test_each_payer_gets_one_email_with_a_view_and_pay_button(
    invoice, payer, workspace, org_units, site_url, django_capture_on_commit_callbacks
):
    second = _member(
        workspace, perms.INVOICE_PAYER, "second@acme.test", org_units["/acme/Branch A"]
    )
    UserPreferences.objects.create(user=second, time_zone="America/Chicago")

    item = _processed(invoice, django_capture_on_commit_callbacks)

    assert sorted(m.to[0] for m in mail.outbox) == ["payer@acme.test", "second@acme.test"]
    assert all(len(m.to) == 1 for m in mail.outbox)
    pay_url = f"{site_url}{reverse('work_item_pay', args=['acme', item.uuid])}"
    for message in mail.outbox:
        assert message.subject == "Acme sent you invoice INV-00001 for $200.00 (due Feb. 1, 2030)"
        text, html = parts(message)
        assert button(html, text) == ("View and pay", pay_url)
        for part in (text, html):
            for line in ("Qualified lead", "$15.00", "$150.00", "Setup", "$50.00", "$200.00"):
                assert line in part, line
    by_to = {m.to[0]: parts(m) for m in mail.outbox}
    # The payer with no zone known reads the workspace's clock (Berlin), the zone named; the
    # one whose browser reported Chicago reads Chicago's.
    for part in by_to["payer@acme.test"]:
        assert "Jan. 7, 2030, 4 p.m. CET" in part and "Europe/Berlin" in part
    for part in by_to["second@acme.test"]:
        assert "Jan. 7, 2030, 9 a.m. CST" in part and "America/Chicago" in part
    item.refresh_from_db()
    assert item.notified_at == PROCESSED_AT


def test_processing_again_sends_nothing_more(
    invoice, payer, site_url, django_capture_on_commit_callbacks
):
    item = _processed(invoice, django_capture_on_commit_callbacks)
    again = _processed(invoice, django_capture_on_commit_callbacks)
    # Even called again by hand, the claimed item is not sent twice.
    assert work_item_payers_notify(item_pk=item.pk) == 0

    assert again == item
    assert [m.to for m in mail.outbox] == [["payer@acme.test"]]


def test_members_outside_the_scope_get_nothing(
    invoice, payer, workspace, org_units, owner, django_capture_on_commit_callbacks
):
    _member(workspace, perms.INVOICE_PAYER, "b@acme.test", org_units["/acme/Branch B"])
    _member(workspace, perms.INVOICE_PAYER, "root@acme.test", org_units["/acme"])
    _member(workspace, perms.STAFF, "staffa@acme.test", org_units["/acme/Branch A"])

    _processed(invoice, django_capture_on_commit_callbacks)

    assert [m.to for m in mail.outbox] == [["payer@acme.test"]]


def test_a_tree_scope_reaches_payers_of_the_units_below(
    invoice, payer, workspace, org_units, django_capture_on_commit_callbacks
):
    _process(workspace, org_units["/acme"], ScopeType.TREE)
    _member(workspace, perms.INVOICE_PAYER, "b@acme.test", org_units["/acme/Branch B"])

    _processed(invoice, django_capture_on_commit_callbacks)

    assert sorted(m.to[0] for m in mail.outbox) == ["b@acme.test", "payer@acme.test"]


def test_nobody_in_scope_sends_nothing_and_the_invoice_page_says_so(
    invoice, owner, as_user, django_capture_on_commit_callbacks
):
    client = as_user(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("invoice_process", args=["acme", invoice.uuid]))
    page = client.get(response["Location"])

    assert mail.outbox == []
    assert (
        "No payer would be notified: nobody holds the Invoice Payer role in /acme/Branch A."
        in page.text
    )
    assert WorkItem.objects.get(invoice=invoice).notified_at is None


def test_amounts_follow_the_workspace_locale(
    invoice, payer, workspace, django_capture_on_commit_callbacks
):
    workspace.locale = "de_DE"
    workspace.save()

    _processed(invoice, django_capture_on_commit_callbacks)

    (message,) = mail.outbox
    assert "for 200,00 $ (due" in message.subject  # a subject's spaces are plain ones
    assert "Qualified lead, 10 x 15,00\xa0$: 150,00\xa0$" in message.body
