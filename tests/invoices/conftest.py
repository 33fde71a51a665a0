"""An issued invoice of the acme workspace, assigned to the invoice payers of Branch A."""

from __future__ import annotations

import pytest

from invoices.models import ScopeType
from invoices.services import invoice_issue, invoice_process, invoice_save, payment_process_save
from portal import perms
from tests.factories import ContactFactory


@pytest.fixture
def process(workspace, org_units):
    return payment_process_save(
        workspace=workspace,
        assignee_name="Invoice payers",
        org_unit=org_units["/acme/Branch A"],
        scope_type=ScopeType.UNIT,
        role=workspace.roles.get(name=perms.INVOICE_PAYER),
    )


@pytest.fixture
def invoice(workspace, org_units, connection, process):
    client = ContactFactory(workspace=workspace, name="Acme Branch A clinic")
    invoice = invoice_save(
        workspace=workspace,
        contact=client,
        org_unit=org_units["/acme/Branch A"],
        currency="usd",
        due_date=None,
        notes="Leads of November",
        lines=[
            {"description": "Qualified lead", "quantity": 10, "unit_price": 1500},
            {"description": "Setup", "quantity": 1, "unit_price": 5000},
        ],
    )
    return invoice_issue(invoice=invoice)


@pytest.fixture
def work_item(invoice):
    return invoice_process(invoice=invoice)
