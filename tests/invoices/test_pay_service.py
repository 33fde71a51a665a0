"""Paying invoices: never more than the balance, paid exactly once, the work item closed."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection as db

from automation.models import Run
from invoices.models import Invoice, InvoicePayment, WorkItem
from invoices.payments import invoice_pay_card, payer_customer
from invoices.selectors import work_items_for
from invoices.services import invoice_process
from tests.automation.conftest import publish


def _saved_card(sandbox, connection, payer, card="pm_card_visa") -> str:
    customer = payer_customer(user=payer, connection=connection)
    client = sandbox.client(connection.secret_key)
    return client.v1.payment_methods.attach(card, params={"customer": customer}).id


def test_the_total_is_computed_in_minor_units_and_numbers_follow(invoice, workspace):
    assert invoice.total == 10 * 1500 + 5000 and invoice.display_number == "INV-00001"
    assert invoice.status == "open"


def test_processing_twice_gives_one_open_work_item(invoice):
    first, second = invoice_process(invoice=invoice), invoice_process(invoice=invoice)
    assert first == second and WorkItem.objects.filter(status="open").count() == 1


def test_only_assignees_see_the_work_item(work_item, workspace, payer, staff, owner, org_units):
    from tests.conftest import _member

    assert list(work_items_for(payer, workspace)) == [work_item]
    assert list(work_items_for(staff, workspace)) == []  # no stripe=pay / not the role
    assert list(work_items_for(owner, workspace)) == []  # not the role
    other_branch = _member(workspace, "Invoice Payer", "b@acme.test", org_units["/acme/Branch B"])
    assert list(work_items_for(other_branch, workspace)) == []
    at_root = _member(workspace, "Invoice Payer", "root@acme.test", org_units["/acme"])
    assert list(work_items_for(at_root, workspace)) == []  # UNIT: exactly Branch A


def test_a_tree_scope_includes_units_below(work_item, workspace, org_units, payer):
    from tests.conftest import _member

    WorkItem.objects.filter(pk=work_item.pk).update(scope_type="TREE", org_unit=org_units["/acme"])
    assert list(work_items_for(payer, workspace)) == [work_item]  # Branch A is below /acme
    elsewhere = _member(workspace, "Invoice Payer", "x@acme.test", None)
    assert list(work_items_for(elsewhere, workspace)) == []


def test_part_then_the_rest_with_the_saved_card_makes_it_paid(
    work_item, payer, sandbox, connection, stripe_client, django_capture_on_commit_callbacks
):
    workflow = publish(work_item.workspace, [], trigger="invoice_paid")
    card = _saved_card(sandbox, connection, payer)
    first = invoice_pay_card(work_item=work_item, payer=payer, amount=8000, payment_method_id=card)
    invoice = Invoice.objects.get()
    assert first.attempt.status == "succeeded"
    assert (invoice.status, invoice.amount_paid, invoice.outstanding) == (
        "partially_paid",
        8000,
        12000,
    )
    with pytest.raises(ValidationError, match=r"The most you can pay now is \$120\.00"):
        invoice_pay_card(work_item=work_item, payer=payer, amount=12001, payment_method_id=card)
    with django_capture_on_commit_callbacks(execute=True):
        invoice_pay_card(work_item=work_item, payer=payer, amount=12000, payment_method_id=card)
    invoice.refresh_from_db()
    work_item.refresh_from_db()
    assert (invoice.status, invoice.amount_paid) == ("paid", 20000)
    assert work_item.status == "closed"
    assert Run.objects.filter(workflow=workflow, trigger_type="invoice_paid").count() == 1
    intents = stripe_client.v1.payment_intents.list().data
    assert sorted(i.amount for i in intents) == [8000, 12000]
    with pytest.raises(ValidationError, match="not waiting for a payment"):
        invoice_pay_card(work_item=work_item, payer=payer, amount=100, payment_method_id=card)


@pytest.mark.parametrize("amount", [0, -5])
def test_zero_and_negative_are_refused_before_stripe(work_item, payer, sandbox, connection, amount):
    card = _saved_card(sandbox, connection, payer)
    with pytest.raises((ValidationError, ValueError)):
        invoice_pay_card(work_item=work_item, payer=payer, amount=amount, payment_method_id=card)
    assert sandbox.control.requests(path="/v1/payment_intents") == []
    assert not InvoicePayment.objects.exists()


def test_a_card_of_someone_else_is_refused(work_item, payer, sandbox, connection, stripe_client):
    stranger = stripe_client.v1.customers.create(params={"email": "s@example.com"})
    card = stripe_client.v1.payment_methods.attach("pm_card_visa", params={"customer": stranger.id})
    with pytest.raises(ValidationError, match="saved cards"):
        invoice_pay_card(work_item=work_item, payer=payer, amount=100, payment_method_id=card.id)


def test_a_declined_card_releases_the_reservation(work_item, payer, sandbox, connection):
    from invoices.payments import available_to_pay

    client = sandbox.client(connection.secret_key)
    card = {"number": "4000000000000341", "exp_month": 12, "exp_year": 2034, "cvc": "123"}
    method = client.v1.payment_methods.create(params={"type": "card", "card": card})
    customer = payer_customer(user=payer, connection=connection)
    client.v1.payment_methods.attach(method.id, params={"customer": customer})
    with pytest.raises(ValidationError, match="declined"):
        invoice_pay_card(work_item=work_item, payer=payer, amount=5000, payment_method_id=method.id)
    invoice = Invoice.objects.get()
    assert invoice.amount_paid == 0 and invoice.status == "open"
    assert InvoicePayment.objects.get().status == "failed"
    assert available_to_pay(invoice) == invoice.total


@pytest.mark.django_db(transaction=True)
def test_20_concurrent_payments_of_half_the_balance_pay_it_exactly_once(
    sandbox, workspace, org_units, payer, connection
):
    from invoices.services import invoice_issue, invoice_save, payment_process_save
    from portal import perms
    from tests.factories import ContactFactory

    payment_process_save(
        workspace=workspace,
        assignee_name="Payers",
        org_unit=org_units["/acme/Branch A"],
        scope_type="UNIT",
        role=workspace.roles.get(name=perms.INVOICE_PAYER),
    )
    invoice = invoice_issue(
        invoice=invoice_save(
            workspace=workspace,
            contact=ContactFactory(workspace=workspace),
            org_unit=None,
            currency="usd",
            due_date=None,
            notes="",
            lines=[{"description": "Leads", "quantity": 1, "unit_price": 10000}],
        )
    )
    item = invoice_process(invoice=invoice)
    card = _saved_card(sandbox, connection, payer)
    outcomes, barrier = [], threading.Barrier(20)

    def pay():
        barrier.wait()
        try:
            invoice_pay_card(work_item=item, payer=payer, amount=5000, payment_method_id=card)
            outcomes.append("paid")
        except ValidationError as refused:
            outcomes.append(" ".join(refused.messages))
        finally:
            db.close()

    threads = [threading.Thread(target=pay) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    invoice.refresh_from_db()
    assert outcomes.count("paid") == 2, outcomes
    assert all(o == "paid" or "most you can pay" in o or "not waiting" in o for o in outcomes)
    assert (invoice.status, invoice.amount_paid) == ("paid", 10000)
    intents = sandbox.client(connection.secret_key).v1.payment_intents.list(params={"limit": 100})
    assert [i.amount for i in intents.data] == [5000, 5000]


def test_ach_add_fail_verify_pay_processing_then_paid(
    work_item, payer, sandbox, connection, django_capture_on_commit_callbacks
):
    from billing.services.charges import payment_refresh
    from invoices.banks import ach_available, bank_account_verify
    from invoices.payments import invoice_pay_bank

    assert ach_available(connection)
    bank = _bank(payer, connection, "000123456789")
    assert (bank.status, bank.last4) == ("pending", "6789")
    with pytest.raises(ValidationError, match="Only a verified bank account"):
        invoice_pay_bank(work_item=work_item, payer=payer, amount=5000, bank=bank)
    with pytest.raises(ValidationError, match="do not match"):
        bank_account_verify(bank=bank, amounts=(10, 20))
    bank = bank_account_verify(bank=bank, amounts=(32, 45))
    assert bank.status == "verified"
    result = invoice_pay_bank(work_item=work_item, payer=payer, amount=20000, bank=bank)
    invoice = Invoice.objects.get()
    assert result.attempt.status == "processing" and invoice.status == "processing"
    sandbox.control.ach_settle(result.attempt.payment.stripe_payment_intent_id)
    with django_capture_on_commit_callbacks(execute=True):
        payment_refresh(payment=result.attempt.payment, via="webhook")
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_paid) == ("paid", 20000)


def test_ach_verification_locks_after_ten_wrong_tries(payer, sandbox, connection):
    from invoices.banks import bank_account_verify

    bank = _bank(payer, connection, "000123456789")
    for _ in range(9):
        with pytest.raises(ValidationError):
            bank_account_verify(bank=bank, amounts=(1, 2))
    with pytest.raises(ValidationError, match="contact your bank"):
        bank_account_verify(bank=bank, amounts=(1, 2))
    bank.refresh_from_db()
    assert bank.status == "failed"


def test_a_failed_ach_payment_reopens_the_invoice_with_the_reason(
    work_item, payer, sandbox, connection
):
    from billing.services.charges import payment_refresh
    from invoices.banks import bank_account_verify
    from invoices.payments import invoice_pay_bank

    bank = _bank(payer, connection, "000111111113")
    bank = bank_account_verify(bank=bank, descriptor_code="SM11AA")
    result = invoice_pay_bank(work_item=work_item, payer=payer, amount=5000, bank=bank)
    sandbox.control.ach_settle(result.attempt.payment.stripe_payment_intent_id)
    payment_refresh(payment=result.attempt.payment, via="webhook")
    invoice = Invoice.objects.get()
    assert invoice.status == "open" and invoice.amount_paid == 0
    assert "failed" in invoice.last_failure


def test_the_same_pay_form_submitted_twice_pays_once(work_item, payer, sandbox, connection):
    import uuid

    card = _saved_card(sandbox, connection, payer)
    token = uuid.uuid4()
    for _ in range(3):
        invoice_pay_card(
            work_item=work_item, payer=payer, amount=8000, payment_method_id=card, attempt=token
        )
    invoice = Invoice.objects.get()
    assert invoice.amount_paid == 8000 and InvoicePayment.objects.count() == 1
    posts = sandbox.control.requests(path="/v1/payment_intents", method="POST")
    assert len(posts) == 1


def test_another_work_items_attempt_token_tells_nothing_and_charges_nothing(
    work_item, invoice, payer, sandbox, connection
):
    """A pay form carrying the attempt id of another invoice's payment is refused; the other
    payment is neither shown nor repeated."""
    from invoices.services import invoice_issue, invoice_save

    card = _saved_card(sandbox, connection, payer)
    paid = invoice_pay_card(work_item=work_item, payer=payer, amount=500, payment_method_id=card)
    lines = [{"description": "Leads", "quantity": 1, "unit_price": 900}]
    other = invoice_save(
        workspace=invoice.workspace, contact=invoice.contact, lines=lines,
        org_unit=invoice.org_unit, currency="usd", due_date=None, notes="",
    )  # fmt: skip
    other_item = invoice_process(invoice=invoice_issue(invoice=other))
    intents = len(sandbox.control.requests(path="/v1/payment_intents", method="POST"))
    with pytest.raises(ValidationError, match="already used"):
        invoice_pay_card(work_item=other_item, payer=payer, amount=500, payment_method_id=card,
                         attempt=paid.attempt.uuid)  # fmt: skip
    assert len(sandbox.control.requests(path="/v1/payment_intents", method="POST")) == intents
    assert InvoicePayment.objects.filter(work_item=other_item).count() == 0


def _bank(payer, connection, account_number: str):
    """A payer's new (pending) US bank account; the numbers are Stripe's test ones."""
    from invoices.banks import bank_account_add

    return bank_account_add(
        payer=payer,
        connection=connection,
        holder_name="Pat Payer",
        routing_number="110000000",
        account_number=account_number,
    )


def _verified_bank(payer, connection):
    from invoices.banks import bank_account_verify

    return bank_account_verify(bank=_bank(payer, connection, "000123456789"), amounts=(32, 45))


def test_a_bank_payment_stripe_rate_limits_stays_pending_and_the_same_form_pays_once(
    work_item, payer, sandbox, connection
):
    """ACH goes through the one way to charge: a 429 leaves the attempt pending with its
    amount held (not failed), and the same form sent again pays under the same key."""
    import uuid

    from integrations.gateway.errors import GatewayError
    from invoices.payments import invoice_pay_bank

    bank = _verified_bank(payer, connection)
    token = uuid.uuid4()
    sandbox.control.inject_fault(method="POST", path="/v1/payment_intents", kind="429")
    with pytest.raises(GatewayError) as raised:
        invoice_pay_bank(work_item=work_item, payer=payer, amount=5000, bank=bank, attempt=token)
    assert raised.value.retryable
    attempt = InvoicePayment.objects.get()
    assert attempt.status == "pending" and attempt.payment.status == "pending"
    result = invoice_pay_bank(
        work_item=work_item, payer=payer, amount=5000, bank=bank, attempt=token
    )
    assert result.attempt.status == "processing"
    assert InvoicePayment.objects.count() == 1
    intents = sandbox.client(connection.secret_key).v1.payment_intents.list().data
    assert len(intents) == 1


def test_a_bank_payment_whose_500_was_saved_adopts_the_intent_stripe_made(
    work_item, payer, sandbox, connection
):
    """Stripe made the intent but answered 500: the attempt finds it by our row at once
    (before the bank path shared the card's charge, it was marked failed while Stripe went
    on to debit the account)."""
    from invoices.payments import invoice_pay_bank

    bank = _verified_bank(payer, connection)
    sandbox.control.inject_fault(
        method="POST", path="/v1/payment_intents", kind="500_after_execution"
    )
    result = invoice_pay_bank(work_item=work_item, payer=payer, amount=5000, bank=bank)
    assert result.attempt.status == "processing"
    assert Invoice.objects.get().status == "processing"
    intents = sandbox.client(connection.secret_key).v1.payment_intents.list().data
    assert len(intents) == 1 and intents[0].id == result.attempt.payment.stripe_payment_intent_id
