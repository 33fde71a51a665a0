"""The payer's pay form: amounts up to the balance, saved and new cards, who may pay, and the
"Loading error" when payments are not set up."""

from __future__ import annotations

import json
import uuid

import pytest
from django.urls import reverse

from invoices.models import Invoice, InvoicePayment
from invoices.payments import payer_customer
from portal import perms
from tests.conftest import _member
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def _token() -> str:
    """A pay form's one-time token, as the page renders it."""
    return str(uuid.uuid4())


def _pay_url(item, ws="acme"):
    return reverse("work_item_pay", args=[ws, item.uuid])


def _saved_card(sandbox, connection, user, card="pm_card_visa") -> str:
    customer = payer_customer(user=user, connection=connection)
    client = sandbox.client(connection.secret_key)
    return client.v1.payment_methods.attach(card, params={"customer": customer}).id


def _intents(sandbox):
    return [r for r in sandbox.control.requests(path="/v1/payment_intents")]


def test_the_form_offers_the_balance_saved_cards_and_a_new_card(
    work_item, payer, as_user, sandbox, connection
):
    _saved_card(sandbox, connection, payer)
    page = as_user(payer).get(_pay_url(work_item))
    assert page.status_code == 200
    assert 'value="200.00"' in page.text and "Up to $200.00" in page.text
    assert "Visa •••• 4242, expires" in page.text and "A new card" in page.text
    assert "Save this card for next time" in page.text
    assert f'data-publishable-key="{connection.publishable_key}"' in page.text
    assert "js/invoice_pay.js" in page.text and connection.secret_key not in page.text
    assert "script-src" in page["Content-Security-Policy"]


def test_without_a_usable_connection_the_form_shows_the_loading_error(
    work_item, payer, as_user, connection
):
    connection.delete()
    page = as_user(payer).get(_pay_url(work_item))
    assert "Payments are not set up for this workspace; ask an administrator." in page.text
    assert "Loading error" in page.text
    assert reverse("stripe_dashboard", args=["acme"]) not in page.text  # no stripe=* here
    assert 'name="amount"' not in page.text


def test_a_stripe_admin_who_pays_gets_the_link_to_the_stripe_page(
    work_item, workspace, org_units, as_user, connection
):
    user = UserFactory(username="boss@acme.test")
    MembershipFactory(
        user=user,
        workspace=workspace,
        org_unit=org_units["/acme/Branch A"],
        roles=[perms.INVOICE_PAYER, perms.OWNER],
    )
    connection.health = "auth_failed"
    connection.save()
    page = as_user(user).get(_pay_url(work_item))
    assert "Payments are not set up for this workspace; ask an administrator." in page.text
    assert reverse("stripe_dashboard", args=["acme"]) in page.text
    assert "connect a working Stripe account first" in page.text


def test_part_with_a_saved_card_then_the_rest_makes_the_invoice_paid(
    work_item, payer, as_user, sandbox, connection
):
    card = _saved_card(sandbox, connection, payer)
    client = as_user(payer)
    first = client.post(
        _pay_url(work_item),
        {
            "action": "pay",
            "attempt": _token(),
            "amount": "80",
            "method": "card",
            "payment_method": card,
        },
        follow=True,
    )
    assert "Paid $80.00. The invoice is now Partially paid." in first.text
    invoice = Invoice.objects.get()
    assert (invoice.status, invoice.amount_paid) == ("partially_paid", 8000)
    page = client.get(_pay_url(work_item))
    assert 'value="120.00"' in page.text
    rest = client.post(
        _pay_url(work_item),
        {
            "action": "pay",
            "attempt": _token(),
            "amount": "120.00",
            "method": "card",
            "payment_method": card,
        },
        follow=True,
    )
    assert "Paid $120.00. The invoice is now Paid." in rest.text
    assert "Work item closed: Paid" in rest.text
    invoice.refresh_from_db()
    work_item.refresh_from_db()
    assert (invoice.status, invoice.amount_paid, work_item.status) == ("paid", 20000, "closed")
    assert len([r for r in _intents(sandbox) if r["method"] == "POST"]) == 2
    # A closed item's pay page sends the payer back to the (read-only) item.
    assert client.get(_pay_url(work_item))["Location"] == work_item.get_absolute_url()


@pytest.mark.parametrize(
    "amount, message",
    [
        ("200.01", "The most you can pay now is $200.00."),
        ("0", "The amount must be greater than zero."),
        ("-5", "Enter an amount such as 49.99"),
        ("10.001", "USD has at most 2 decimals."),
        ("0.20", "Stripe&#x27;s minimum charge in USD is $0.50."),
    ],
)
def test_bad_amounts_are_refused_before_stripe(
    amount, message, work_item, payer, as_user, sandbox, connection
):
    card = _saved_card(sandbox, connection, payer)
    response = as_user(payer).post(
        _pay_url(work_item),
        {
            "action": "pay",
            "attempt": _token(),
            "amount": amount,
            "method": "card",
            "payment_method": card,
        },
    )
    assert response.status_code == 200 and message in response.text
    assert response.context["form"].errors["amount"]
    assert _intents(sandbox) == [] and not InvoicePayment.objects.exists()


def test_an_unknown_card_is_refused(work_item, payer, as_user, sandbox, connection):
    response = as_user(payer).post(
        _pay_url(work_item),
        {
            "action": "pay",
            "attempt": _token(),
            "amount": "10",
            "method": "card",
            "payment_method": "pm_someone_elses",
        },
    )
    assert "Select a valid choice" in response.text and _intents(sandbox) == []


def test_a_new_card_gets_a_client_secret_then_the_return_view_records_it(
    work_item, payer, as_user, sandbox, connection, stripe_client
):
    client = as_user(payer)
    response = client.post(
        _pay_url(work_item),
        {
            "action": "pay",
            "attempt": _token(),
            "amount": "50",
            "method": "card",
            "payment_method": "new",
            "save_card": "on",
        },
        HTTP_ACCEPT="application/json",
    )
    data = json.loads(response.content)
    assert response.status_code == 200 and data["client_secret"].startswith("pi_")
    attempt = InvoicePayment.objects.get()
    assert data["return_url"] == reverse(
        "work_item_pay_return", args=["acme", work_item.uuid, attempt.uuid]
    )
    intent_id = data["client_secret"].split("_secret_")[0]
    stripe_client.v1.payment_intents.confirm(intent_id, params={"payment_method": "pm_card_visa"})
    page = client.get(data["return_url"], follow=True)
    assert "Paid $50.00. The invoice is now Partially paid." in page.text
    attempt.refresh_from_db()
    assert attempt.status == "succeeded"


def test_a_new_card_with_a_bad_amount_answers_json_errors(
    work_item, payer, as_user, sandbox, connection
):
    response = as_user(payer).post(
        _pay_url(work_item),
        {
            "action": "pay",
            "attempt": _token(),
            "amount": "500",
            "method": "card",
            "payment_method": "new",
        },
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 400
    errors = json.loads(response.content)["errors"]
    assert errors["amount"][0]["message"] == "The most you can pay now is $200.00."
    assert _intents(sandbox) == []


def test_a_new_card_without_javascript_is_explained(work_item, payer, as_user, sandbox, connection):
    response = as_user(payer).post(
        _pay_url(work_item),
        {
            "action": "pay",
            "attempt": _token(),
            "amount": "50",
            "method": "card",
            "payment_method": "new",
        },
    )
    assert "needs JavaScript" in response.text and _intents(sandbox) == []


def test_ach_is_not_offered_when_the_account_is_not_us(invoice, payer, as_user, sandbox, workspace):
    from integrations.services import connection_create_from_key
    from invoices.services import invoice_process

    invoice.workspace.stripe_connections.all().delete()
    secret, publishable, _ = sandbox.new_account(name="Acme GmbH", country="DE")
    connection_create_from_key(workspace=workspace, secret_key=secret, publishable_key=publishable)
    item = invoice_process(invoice=invoice)
    page = as_user(payer).get(_pay_url(item))
    assert page.status_code == 200 and "Bank account (ACH)" not in page.text
    response = as_user(payer).post(
        _pay_url(item),
        {
            "action": "pay",
            "attempt": _token(),
            "amount": "50",
            "method": "ach",
            "bank_account": "x",
        },
    )
    assert "Select a valid choice" in response.text
    assert not InvoicePayment.objects.exists()


# --- who may pay: the permission cases ---------------------------------------------


def _forged_pay(client, item, card="pm_card_visa"):
    return client.post(
        _pay_url(item),
        {
            "action": "pay",
            "attempt": _token(),
            "amount": "200",
            "method": "card",
            "payment_method": card,
        },
    )


def test_a_payer_outside_the_assigned_unit_gets_404_and_nothing_is_charged(
    work_item, workspace, org_units, as_user, sandbox, connection
):
    elsewhere = _member(workspace, perms.INVOICE_PAYER, "b@acme.test", org_units["/acme/Branch B"])
    card = _saved_card(sandbox, connection, elsewhere)
    client = as_user(elsewhere)
    assert client.get(work_item.get_absolute_url()).status_code == 404
    assert client.get(_pay_url(work_item)).status_code == 404
    assert _forged_pay(client, work_item, card).status_code == 404
    assert _intents(sandbox) == [] and not InvoicePayment.objects.exists()


def test_a_payer_without_stripe_pay_gets_403_and_nothing_is_charged(
    work_item, workspace, payer, as_user, sandbox, connection
):
    card = _saved_card(sandbox, connection, payer)
    workspace.roles.filter(name=perms.INVOICE_PAYER).update(permissions=[])
    client = as_user(payer)
    assert client.get(work_item.get_absolute_url()).status_code == 403
    assert client.get(reverse("work_item_list", args=["acme"])).status_code == 403
    assert _forged_pay(client, work_item, card).status_code == 403
    assert _intents(sandbox) == [] and not InvoicePayment.objects.exists()


def test_a_user_of_another_workspace_gets_404_and_nothing_is_charged(
    work_item, outsider, as_user, sandbox, connection
):
    client = as_user(outsider)
    assert client.get(_pay_url(work_item)).status_code == 404
    assert _forged_pay(client, work_item).status_code == 404
    assert client.post(_pay_url(work_item, ws="globex"), {"amount": "200"}).status_code == 404
    assert _intents(sandbox) == [] and not InvoicePayment.objects.exists()


def test_the_return_view_is_for_assignees_only(
    work_item, payer, as_user, workspace, org_units, sandbox, connection
):
    response = as_user(payer).post(
        _pay_url(work_item),
        {
            "action": "pay",
            "attempt": _token(),
            "amount": "50",
            "method": "card",
            "payment_method": "new",
        },
        HTTP_ACCEPT="application/json",
    )
    url = json.loads(response.content)["return_url"]
    elsewhere = _member(workspace, perms.INVOICE_PAYER, "b@acme.test", org_units["/acme/Branch B"])
    assert as_user(elsewhere).get(url).status_code == 404


# --- ACH: add, verify with microdeposits, pay, settle ---------------------------------------

BANK = {"action": "add_bank", "holder_name": "Pat Payer", "routing_number": "110000000",
        "account_number": "000123456789"}  # fmt: skip


def test_a_bank_account_is_added_verified_then_pays_and_settles(
    work_item, payer, as_user, sandbox, connection
):
    from billing.services.charges import payment_refresh
    from invoices.models import BankAccount

    client = as_user(payer)
    page = client.get(_pay_url(work_item))
    assert "Bank account (ACH)" in page.text and "two small deposits" in page.text
    added = client.post(_pay_url(work_item), BANK, follow=True)
    assert "Stripe sends two small deposits" in added.text
    bank = BankAccount.objects.get()
    assert bank.status == "pending" and bank.last4 == "6789"
    verify = {"action": "verify_bank", "bank": str(bank.uuid)}
    wrong = client.post(_pay_url(work_item), verify | {"amount_1": "10", "amount_2": "11"})
    assert wrong.status_code == 200 and wrong.context["verify_forms"][bank.uuid].errors
    missing = client.post(_pay_url(work_item), verify | {"amount_1": "10"})
    assert "Enter both deposit amounts, or the code on the statement." in missing.text
    ok = client.post(
        _pay_url(work_item), verify | {"amount_1": "32", "amount_2": "45"}, follow=True
    )
    assert "is verified: you can pay with it" in ok.text
    bank.refresh_from_db()
    assert bank.status == "verified"

    # As a browser sends it: the card section's radio ("new") comes along, and is ignored.
    data = {"action": "pay", "attempt": _token(), "amount": "200", "method": "ach",
            "bank_account": str(bank.uuid), "payment_method": "new"}  # fmt: skip
    paid = client.post(_pay_url(work_item), data, follow=True)
    assert "bank payments take a few business days" in paid.text
    attempt = InvoicePayment.objects.get()
    assert (attempt.status, attempt.invoice.status) == ("processing", "processing")
    assert "Payment processing" in paid.text

    sandbox.control.ach_settle(attempt.payment.stripe_payment_intent_id)
    payment_refresh(payment=attempt.payment, via="test")
    work_item.refresh_from_db()
    assert work_item.invoice.status == "paid" and work_item.status == "closed"
    assert "Work item closed: Paid" in client.get(work_item.get_absolute_url()).text


def test_a_bad_routing_number_is_refused_next_to_the_field(
    work_item, payer, as_user, sandbox, connection
):
    from invoices.models import BankAccount

    response = as_user(payer).post(_pay_url(work_item), BANK | {"routing_number": "12345"})
    assert response.status_code == 200
    assert response.context["bank_form"].errors == {
        "routing_number": ["A routing number has 9 digits."]
    }
    assert not BankAccount.objects.exists()


def test_only_verified_accounts_can_pay(work_item, payer, as_user, sandbox, connection):
    from invoices.models import BankAccount

    client = as_user(payer)
    client.post(_pay_url(work_item), BANK)
    bank = BankAccount.objects.get()
    data = {"action": "pay", "attempt": _token(), "amount": "200", "method": "ach",
            "bank_account": str(bank.uuid)}  # fmt: skip
    response = client.post(_pay_url(work_item), data)
    assert "Add and verify a bank account first." in response.text
    assert not InvoicePayment.objects.exists()
