"""Invoice pages (invoices=manage): list, create and edit, detail, issue, process, void, print,
and the payment process settings."""

from __future__ import annotations

import pytest
from django.urls import reverse

from invoices.models import Invoice, InvoiceLine, WorkItem
from invoices.services import invoice_save
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def _url(name, *args, ws="acme"):
    return reverse(name, args=[ws, *args])


def _post_data(contact, org_unit=None, lines=(), **extra):
    data = {
        "contact": str(contact.uuid),
        "org_unit": str(org_unit.uuid) if org_unit else "",
        "currency": "USD",
        "due_date": "2030-01-31",
        "notes": "Leads of December",
        "lines-TOTAL_FORMS": str(len(lines)),
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "100",
    }
    for i, (description, quantity, price) in enumerate(lines):
        data |= {
            f"lines-{i}-description": description,
            f"lines-{i}-quantity": quantity,
            f"lines-{i}-unit_price": price,
        }
    return data | extra


@pytest.fixture
def client_contact(workspace):
    return ContactFactory(workspace=workspace, name="Bright Smiles clinic")


def test_the_list_filters_by_status_and_paginates(invoice, staff, as_user, workspace, settings):
    settings.PORTAL_PAGE_SIZE = 1
    invoice_save(
        workspace=workspace,
        contact=invoice.contact,
        org_unit=None,
        currency="usd",
        due_date=None,
        notes="",
        lines=[{"description": "x", "quantity": 1, "unit_price": 100}],
    )
    client = as_user(staff)
    page = client.get(_url("invoice_list"))
    assert page.status_code == 200 and "Page 1 of 2" in page.text
    assert "INV-00002" in page.text  # newest first
    drafts = client.get(_url("invoice_list"), {"status": "draft"})
    assert "INV-00002" in drafts.text and "INV-00001" not in drafts.text
    opened = client.get(_url("invoice_list"), {"status": "open"})
    assert "INV-00001" in opened.text and "INV-00002" not in opened.text


def test_the_list_keeps_a_constant_number_of_queries(
    invoice, staff, as_user, workspace, django_assert_max_num_queries
):
    for _ in range(5):
        invoice_save(
            workspace=workspace,
            contact=invoice.contact,
            org_unit=None,
            currency="usd",
            due_date=None,
            notes="",
            lines=[{"description": "x", "quantity": 1, "unit_price": 100}],
        )
    client = as_user(staff)
    with django_assert_max_num_queries(12):
        assert client.get(_url("invoice_list")).status_code == 200


def test_staff_creates_an_invoice_with_prices_in_major_units(
    staff, as_user, client_contact, org_units
):
    client = as_user(staff)
    assert client.get(_url("invoice_create")).status_code == 200
    data = _post_data(
        client_contact,
        org_units["/acme/Branch A"],
        [("Qualified lead", "10", "15.00"), ("Setup", "1", "1,250.5")],
    )
    response = client.post(_url("invoice_create"), data)
    invoice = Invoice.objects.get()
    assert response.status_code == 302 and response["Location"] == invoice.get_absolute_url()
    assert invoice.total == 10 * 1500 + 125050 and invoice.status == "draft"
    assert [(line.description, line.unit_price) for line in invoice.lines.all()] == [
        ("Qualified lead", 1500),
        ("Setup", 125050),
    ]
    assert invoice.org_unit == org_units["/acme/Branch A"]


@pytest.mark.parametrize(
    "lines, field_message",
    [
        ([], "An invoice needs at least one line"),
        ([("", "", "")], "An invoice needs at least one line"),
        ([("Lead", "1", "1.999")], "USD has at most 2 decimals."),
        ([("Lead", "-2", "15.00")], "Ensure this value is greater than or equal to 1."),
        ([("Lead", "1", "abc")], "Enter an amount such as 49.99"),
    ],
)
def test_bad_input_is_refused_next_to_the_field_and_nothing_saved(
    lines, field_message, staff, as_user, client_contact
):
    response = as_user(staff).post(_url("invoice_create"), _post_data(client_contact, None, lines))
    assert response.status_code == 200
    assert field_message in response.text
    assert not Invoice.objects.exists() and not InvoiceLine.objects.exists()


def test_the_price_error_sits_on_its_line(staff, as_user, client_contact):
    data = _post_data(client_contact, None, [("Lead", "1", "15.00"), ("Setup", "1", "1.999")])
    response = as_user(staff).post(_url("invoice_create"), data)
    lines = response.context["lines"]
    assert lines.forms[1].errors == {"unit_price": ["USD has at most 2 decimals."]}
    assert not lines.forms[0].errors


def test_three_decimal_currencies_take_three_decimals(staff, as_user, client_contact):
    data = _post_data(client_contact, None, [("Lead", "2", "1.250")], currency="KWD")
    as_user(staff).post(_url("invoice_create"), data)
    invoice = Invoice.objects.get()
    assert (invoice.currency, invoice.total) == ("kwd", 2500)


def test_add_a_line_renders_one_more_row_and_saves_nothing(staff, as_user, client_contact):
    data = _post_data(client_contact, None, [("Lead", "1", "15.00")], add_line="1")
    response = as_user(staff).post(_url("invoice_create"), data)
    assert response.status_code == 200
    assert len(response.context["lines"].forms) == 2
    assert 'value="Lead"' in response.text and "errorlist" not in response.text
    assert not Invoice.objects.exists()


def test_editing_replaces_the_lines(invoice, staff, as_user):
    client = as_user(staff)
    page = client.get(_url("invoice_edit", invoice.uuid))
    assert page.status_code == 200 and 'value="15.00"' in page.text
    data = _post_data(invoice.contact, None, [("Lead", "3", "20")])
    response = client.post(_url("invoice_edit", invoice.uuid), data)
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert invoice.total == 6000 and invoice.lines.count() == 1 and invoice.number == 1


def test_another_workspaces_contact_is_refused(staff, as_user, other_workspace):
    stranger = ContactFactory(workspace=other_workspace)
    data = _post_data(stranger, None, [("Lead", "1", "15.00")])
    response = as_user(staff).post(_url("invoice_create"), data)
    assert response.status_code == 200 and "Select a valid choice" in response.text
    assert not Invoice.objects.exists()


def test_the_detail_shows_lines_totals_work_items_and_attempts(work_item, staff, as_user):
    page = as_user(staff).get(work_item.invoice.get_absolute_url())
    assert page.status_code == 200
    for text in (
        "INV-00001",
        "Qualified lead",
        "$200.00",
        "Outstanding",
        "Invoice payers",
        "/acme/Branch A",
        "Reprocess",
        "No payments yet.",
    ):
        assert text in page.text, text


def test_issue_then_process_then_reprocess(staff, as_user, workspace, process, client_contact):
    invoice = invoice_save(
        workspace=workspace,
        contact=client_contact,
        org_unit=None,
        currency="usd",
        due_date=None,
        notes="",
        lines=[{"description": "x", "quantity": 1, "unit_price": 900}],
    )
    client = as_user(staff)
    client.post(_url("invoice_issue", invoice.uuid))
    invoice.refresh_from_db()
    assert invoice.status == "open"
    first = client.post(_url("invoice_process", invoice.uuid), follow=True)
    assert "Work item created for Invoice payers (/acme/Branch A)" in first.text
    second = client.post(_url("invoice_process", invoice.uuid), follow=True)
    assert "The open work item is back in the payers&#x27; inbox" in second.text
    assert WorkItem.objects.filter(invoice=invoice, status="open").count() == 1


def test_a_draft_cannot_be_processed(staff, as_user, workspace, process, client_contact):
    invoice = invoice_save(
        workspace=workspace,
        contact=client_contact,
        org_unit=None,
        currency="usd",
        due_date=None,
        notes="",
        lines=[{"description": "x", "quantity": 1, "unit_price": 900}],
    )
    page = as_user(staff).post(_url("invoice_process", invoice.uuid), follow=True)
    assert "A draft invoice is not paid." in page.text and not WorkItem.objects.exists()


def test_processing_without_a_payment_process_says_so(staff, as_user, invoice):
    invoice.workspace.payment_process.delete()
    page = as_user(staff).post(_url("invoice_process", invoice.uuid), follow=True)
    assert "Set the workspace&#x27;s payment process first" in page.text
    assert not WorkItem.objects.exists()


def test_void_asks_then_closes_the_open_work_item(work_item, staff, as_user):
    client = as_user(staff)
    url = _url("invoice_void", work_item.invoice.uuid)
    assert "Void invoice INV-00001?" in client.get(url).text
    client.post(url)
    work_item.refresh_from_db()
    assert work_item.invoice.status == "void" and work_item.status == "closed"


def test_the_printable_page_has_no_navigation(invoice, staff, as_user):
    page = as_user(staff).get(_url("invoice_print", invoice.uuid))
    assert page.status_code == 200
    assert "Invoice INV-00001" in page.text and "Qualified lead" in page.text
    assert 'aria-label="Workspace"' not in page.text and "inv-paper" in page.text


def test_payers_and_viewers_get_403_and_outsiders_404(invoice, payer, viewer, outsider, as_user):
    for user in (payer, viewer):
        assert as_user(user).get(_url("invoice_detail", invoice.uuid)).status_code == 403
        assert as_user(user).post(_url("invoice_process", invoice.uuid)).status_code == 403
    assert as_user(outsider).get(_url("invoice_detail", invoice.uuid)).status_code == 404
    theirs = _url("invoice_detail", invoice.uuid, ws="globex")
    assert as_user(outsider).get(theirs).status_code == 404  # not their workspace's invoice


# --- the payment process ------------------------------------------------------------------


def test_the_payment_process_page_shows_the_assignee_line(process, staff, as_user):
    page = as_user(staff).get(_url("payment_process_edit"))
    assert page.status_code == 200
    line = '<Assignee name="Invoice payers" path="/acme/Branch A" type="UNIT" '
    assert line.replace("<", "&lt;").replace('"', "&quot;") in page.text
    assert "TREE: that unit and the units below it" in page.text


def test_saving_the_payment_process(staff, as_user, workspace, org_units):
    role = workspace.roles.get(name="Invoice Payer")
    data = {
        "assignee_name": "Branch payers",
        "org_unit": str(org_units["/acme"].uuid),
        "scope_type": "TREE",
        "role": str(role.uuid),
    }
    response = as_user(staff).post(_url("payment_process_edit"), data)
    assert response.status_code == 302
    assert str(workspace.payment_process) == (
        '<Assignee name="Branch payers" path="/acme" type="TREE" '
        "scope=\"workflow=role('Invoice Payer')\">"
    )


def test_the_payment_process_refuses_another_workspaces_unit(
    staff, as_user, workspace, other_workspace
):
    from tests.factories import OrgUnitFactory

    theirs = OrgUnitFactory(workspace=other_workspace, name="globex")
    role = workspace.roles.get(name="Invoice Payer")
    data = {
        "assignee_name": "x",
        "org_unit": str(theirs.uuid),
        "scope_type": "UNIT",
        "role": str(role.uuid),
    }
    response = as_user(staff).post(_url("payment_process_edit"), data)
    assert response.status_code == 200 and "Select a valid choice" in response.text
    assert not hasattr(workspace, "payment_process") or workspace.payment_process is None
