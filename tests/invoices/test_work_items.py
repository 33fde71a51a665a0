"""The payers' inbox and work item page: built only from `work_items_for`."""

from __future__ import annotations

import pytest
from django.urls import reverse

from invoices.models import WorkItem
from invoices.services import invoice_void
from portal import perms
from tests.conftest import _member

pytestmark = pytest.mark.django_db


def _inbox(ws="acme"):
    return reverse("work_item_list", args=[ws])


def test_the_payer_sees_the_open_item_with_client_amount_and_due_date(work_item, payer, as_user):
    work_item.invoice.due_date = "2030-02-01"
    work_item.invoice.save()
    page = as_user(payer).get(_inbox())
    assert page.status_code == 200
    for text in ("INV-00001", "Acme Branch A clinic", "$200.00", "Feb. 1, 2030"):
        assert text in page.text, text
    assert work_item.get_absolute_url() in page.text


def test_the_inbox_lists_only_the_users_assigned_items(work_item, workspace, org_units, as_user):
    other_branch = _member(
        workspace, perms.INVOICE_PAYER, "b@acme.test", org_units["/acme/Branch B"]
    )
    page = as_user(other_branch).get(_inbox())
    assert page.status_code == 200 and "INV-00001" not in page.text
    assert "Nothing to pay" in page.text


def test_closed_items_are_listed_as_recently_closed(work_item, payer, as_user):
    invoice_void(invoice=work_item.invoice)
    page = as_user(payer).get(_inbox())
    assert "Recently closed" in page.text and "INV-00001" in page.text
    assert "Nothing to pay" in page.text


def test_members_without_stripe_pay_get_403(work_item, staff, viewer, norole, as_user):
    for user in (staff, viewer, norole):
        assert as_user(user).get(_inbox()).status_code == 403
        assert as_user(user).get(work_item.get_absolute_url()).status_code == 403


def test_the_work_item_page_shows_the_invoice_and_a_pay_button(work_item, payer, as_user):
    page = as_user(payer).get(work_item.get_absolute_url())
    assert page.status_code == 200
    for text in ("Qualified lead", "$150.00", "Setup", "$200.00", "Outstanding"):
        assert text in page.text, text
    assert reverse("work_item_pay", args=["acme", work_item.uuid]) in page.text


def test_a_closed_item_reads_closed_without_a_pay_button(work_item, payer, as_user):
    WorkItem.objects.filter(pk=work_item.pk).update(status="closed")
    page = as_user(payer).get(work_item.get_absolute_url())
    assert "Work item closed" in page.text
    assert reverse("work_item_pay", args=["acme", work_item.uuid]) not in page.text


def test_non_assignees_and_outsiders_get_404(
    work_item, workspace, org_units, owner, outsider, as_user
):
    other_branch = _member(
        workspace, perms.INVOICE_PAYER, "b@acme.test", org_units["/acme/Branch B"]
    )
    for user in (other_branch, owner, outsider):  # the owner has stripe=pay but not the role
        assert as_user(user).get(work_item.get_absolute_url()).status_code == 404, user
    theirs = reverse("work_item_detail", args=["globex", work_item.uuid])
    assert as_user(outsider).get(theirs).status_code == 404
