"""The demo data: everything the README promises, and loading it twice adds nothing.

The demo Stripe keys come from dev.py, which registers them with the sandbox and hands them to
`manage.py demo_data` in DEMO_STRIPE_SECRET_KEY / DEMO_STRIPE_PUBLISHABLE_KEY (the `demo_keys`
fixture does the same).
"""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

import dev
from automation.models import (
    Appointment,
    Calendar,
    Form,
    Run,
    StepRun,
    Submission,
    Workflow,
    WorkflowVersion,
)
from billing.models import Payment, PaymentEvent, PaymentLink, Refund
from integrations.gateway.accounts import balance_retrieve, bank_accounts_list
from integrations.models import StripeConnection, WebhookEndpoint
from integrations.selectors import connection_credentials
from invoices.models import BankAccount, Invoice, InvoicePayment, PayerProfile, WorkItem
from invoices.selectors import work_items_for
from portal.management.commands.demo_data import PASSWORD
from portal.models import AuditEntry, Contact, Membership, OrgUnit, Role, Workspace
from portal.permissions import workspace_permissions

DEMO_SECRET_KEY = dev.DEMO_STRIPE_SECRET_KEY

MODELS = [get_user_model(), Workspace, OrgUnit, Role, Membership, Contact, StripeConnection,
          WebhookEndpoint, Form, Submission, Calendar, Appointment, Workflow, WorkflowVersion, Run,
          StepRun, Payment, PaymentEvent, PaymentLink, Refund, Invoice, WorkItem, InvoicePayment,
          PayerProfile, BankAccount, AuditEntry]  # fmt: skip


def _counts():
    return {model.__name__: model.objects.count() for model in MODELS}


def _stripe_counts(sandbox):
    """How many of each object the demo account has in the sandbox."""
    client = sandbox.client(DEMO_SECRET_KEY)
    everything = {"limit": 100}
    customers = client.v1.customers.list(params=everything).data
    account = client.v1.accounts.retrieve_current()
    return {
        "customers": len(customers),
        "payment methods": sum(
            len(client.v1.payment_methods.list(params={"customer": c.id, "type": kind}).data)
            for c in customers
            for kind in ("card", "us_bank_account")
        ),
        "payment intents": len(client.v1.payment_intents.list(params=everything).data),
        "refunds": len(client.v1.refunds.list(params=everything).data),
        "setup intents": len(client.v1.setup_intents.list(params=everything).data),
        "payout bank accounts": len(account.external_accounts.data),
    }


def _register_demo_keys(sandbox):
    sandbox.control.register_key(
        dev.DEMO_STRIPE_SECRET_KEY,
        publishable_key=dev.DEMO_STRIPE_PUBLISHABLE_KEY,
        account=dev.DEMO_STRIPE_ACCOUNT,
    )


@pytest.fixture
def demo_keys(sandbox, monkeypatch):
    """What `python3 dev.py` does before `manage.py demo_data`."""
    _register_demo_keys(sandbox)
    monkeypatch.setenv("DEMO_STRIPE_SECRET_KEY", dev.DEMO_STRIPE_SECRET_KEY)
    monkeypatch.setenv("DEMO_STRIPE_PUBLISHABLE_KEY", dev.DEMO_STRIPE_PUBLISHABLE_KEY)


def test_dev_py_registers_the_demo_keys_with_the_sandbox(sandbox, monkeypatch):
    monkeypatch.setattr(dev, "SANDBOX_URL", sandbox.url)
    dev.register_demo_keys()  # through the sandbox's control command line
    account = sandbox.client(DEMO_SECRET_KEY).v1.accounts.retrieve_current()
    assert (account.id, account.settings.dashboard.display_name) == (
        "acct_1AcmeDentalDemo",
        "Acme Dental",
    )


def test_demo_data_has_the_promised_people_units_connection_and_customers(sandbox, demo_keys, db):
    call_command("demo_data", stdout=io.StringIO())
    acme = Workspace.objects.get(slug="acme-dental")
    assert list(acme.org_units.values_list("path", flat=True)) == [
        "/acme",
        "/acme/Branch A",
        "/acme/Branch B",
    ]
    User = get_user_model()
    payer = User.objects.get(username="payer@acme.test")
    assert payer.check_password(PASSWORD)
    assert Membership.objects.get(user=payer, workspace=acme).org_unit.path == "/acme/Branch A"
    assert "stripe=pay" in workspace_permissions(payer, acme)
    owner = User.objects.get(username="owner@agency.test")
    assert Workspace.objects.filter(memberships__user=owner).count() == 2

    connection = acme.stripe_connections.get()
    assert connection.is_default and connection.mode == "test"
    assert connection.masked_secret_key == "sk_test_...4242"
    with_customer = acme.contacts.exclude(stripe_customer_id="")
    # Jane, Marcus, Declan (a card declined when charged) and the client billed per lead
    assert with_customer.count() == 4
    client = sandbox.client(DEMO_SECRET_KEY)
    for contact in with_customer:
        customer = client.v1.customers.retrieve(contact.stripe_customer_id)
        cards = client.v1.payment_methods.list(
            params={"customer": customer.id, "type": "card"}
        ).data
        assert len(cards) == 1
        assert customer.invoice_settings.default_payment_method == cards[0].id


def test_loading_the_demo_data_twice_duplicates_nothing(sandbox, demo_keys, db):
    call_command("demo_data", stdout=io.StringIO())
    first, in_stripe = _counts(), _stripe_counts(sandbox)
    ids = sorted(Contact.objects.values_list("stripe_customer_id", flat=True))
    call_command("demo_data", stdout=io.StringIO())
    assert _counts() == first
    assert _stripe_counts(sandbox) == in_stripe
    assert sorted(Contact.objects.values_list("stripe_customer_id", flat=True)) == ids
    # The four contacts with a card and the invoice payer; a payout bank account.
    assert (in_stripe["customers"], in_stripe["payout bank accounts"]) == (5, 1)
    assert in_stripe["refunds"] == 1 and first["Refund"] == 1


def test_a_sandbox_that_lost_its_data_gets_the_customers_again(sandbox, demo_keys, db):
    call_command("demo_data", stdout=io.StringIO())
    sandbox.control.reset()
    _register_demo_keys(sandbox)  # dev.py registers them on every start
    call_command("demo_data", stdout=io.StringIO())
    client = sandbox.client(DEMO_SECRET_KEY)
    for contact in Contact.objects.exclude(stripe_customer_id=""):
        assert client.v1.customers.retrieve(contact.stripe_customer_id).email == contact.email


def test_the_demo_lead_form_charges_the_client_the_lead_fee_through_the_published_workflow(
    sandbox, demo_keys, db, client, django_capture_on_commit_callbacks
):
    """Pay per lead as the README tells it: any lead on the form charges the client (Acme's
    lead-fee customer) the fixed fee; what the lead types chooses neither payer nor amount."""
    call_command("demo_data", stdout=io.StringIO())
    workflow = Workflow.objects.get(name="Pay per lead")
    assert workflow.status == "published"
    assert (workflow.max_amount_per_charge, workflow.max_amount_per_day) == (5000, 50000)
    client_contact = Contact.objects.get(email="billing@acme.test")
    stripe = sandbox.client(DEMO_SECRET_KEY)
    before = {i.id for i in stripe.v1.payment_intents.list(params={"limit": 100}).data}
    demo_runs = set(workflow.runs.values_list("pk", flat=True))  # the demo's own lead
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/f/acme-lead-form/",
            {"name": "Mallory", "email": "jane.cooper@example.com", "lead_value": "999999.99"},
        )
    run = workflow.runs.exclude(pk__in=demo_runs).get()
    assert run.status == "succeeded", run.error_message
    intents = [
        i for i in stripe.v1.payment_intents.list(params={"limit": 100}).data if i.id not in before
    ]
    assert [(i.amount, i.customer) for i in intents] == [(2500, client_contact.stripe_customer_id)]
    assert Contact.objects.get(email="jane.cooper@example.com").name == "Jane Cooper"


def test_an_earlier_demos_lead_pays_workflow_is_rebuilt_as_client_pays(sandbox, demo_keys, db):
    call_command("demo_data", stdout=io.StringIO())
    workflow = Workflow.objects.get(name="Pay per lead")
    old = workflow.definition
    old["steps"][0]["config"]["customer_id"] = "{{ contact.stripe_customer_id }}"
    Workflow.objects.filter(pk=workflow.pk).update(definition=old)
    call_command("demo_data", stdout=io.StringIO())
    workflow.refresh_from_db()
    client_contact = Contact.objects.get(email="billing@acme.test")
    step = workflow.published_version.definition["steps"][0]
    assert step["config"]["customer_id"] == client_contact.stripe_customer_id
    assert workflow.published_version.number == 2


def test_the_keys_can_be_options_too(sandbox, db):
    _register_demo_keys(sandbox)
    call_command(
        "demo_data",
        secret_key=dev.DEMO_STRIPE_SECRET_KEY,
        publishable_key=dev.DEMO_STRIPE_PUBLISHABLE_KEY,
        stdout=io.StringIO(),
    )
    connection = Workspace.objects.get(slug="acme-dental").stripe_connections.get()
    assert connection.account_id == "acct_1AcmeDentalDemo"
    assert connection.publishable_key == dev.DEMO_STRIPE_PUBLISHABLE_KEY


def test_without_keys_there_is_no_demo_stripe_data(sandbox, db, monkeypatch):
    monkeypatch.delenv("DEMO_STRIPE_SECRET_KEY", raising=False)
    monkeypatch.delenv("DEMO_STRIPE_PUBLISHABLE_KEY", raising=False)
    out = io.StringIO()
    call_command("demo_data", stdout=out)
    assert "no demo Stripe data" in out.getvalue()
    assert "Demo data is ready." in out.getvalue()
    assert not StripeConnection.objects.exists()
    assert not Contact.objects.exclude(stripe_customer_id="").exists()
    assert Workspace.objects.filter(slug="acme-dental").exists()


def test_a_key_the_sandbox_does_not_know_is_refused_with_a_hint(sandbox, db):
    with pytest.raises(CommandError, match="dev.py registers it"):
        call_command("demo_data", secret_key=DEMO_SECRET_KEY, stdout=io.StringIO())
    assert not StripeConnection.objects.exists()


def test_the_demo_has_what_the_readme_tour_shows(sandbox, demo_keys, db):
    """Each thing the tour points at: bookings paid by the workflow, by hand and not at all,
    a declined charge (a failed run), a refund, waiting runs, a workflow published twice,
    invoices in each state, the payer's work items, bank accounts on both sides."""
    call_command("demo_data", stdout=io.StringIO())
    acme = Workspace.objects.get(slug="acme-dental")

    paid = {
        (a.calendar.name, a.contact.name): a.payment_status
        for a in Appointment.objects.filter(workspace=acme).select_related("calendar", "contact")
    }
    assert paid == {
        ("Cleaning", "Jane Cooper"): "charged_in_full",  # by the booking workflow
        ("Cleaning", "Declan Ross"): "unpaid",  # his card was declined
        ("Cleaning", "Priya Patel"): "unpaid",  # no card: the workflow stops
        ("Consultation", "Marcus Lee"): "charged_in_full",  # by hand: a payment link he paid
        ("Consultation", "Tom Becker"): "unpaid",  # a payment link sent, open
    }
    links = {link.contact.name: link.status for link in PaymentLink.objects.all()}
    assert links == {"Marcus Lee": "paid", "Tom Becker": "open"}

    bookings = Workflow.objects.get(workspace=acme, name="Charge cleaning bookings")
    assert list(bookings.versions.values_list("number", flat=True).order_by("number")) == [1, 2]
    assert bookings.published_version.number == 2
    assert bookings.published_version.published_by.username == "owner@agency.test"
    runs = {run.contact.name: run for run in bookings.runs.select_related("contact")}
    assert runs["Jane Cooper"].status == "succeeded"
    assert runs["Priya Patel"].status == "stopped"
    failed = runs["Declan Ross"]
    assert failed.status == "failed" and "declined" in failed.error_message
    lead = Workflow.objects.get(workspace=acme, name="Pay per lead").runs.get()
    assert lead.status == "succeeded", lead.error_message
    reminders = Workflow.objects.get(workspace=acme, name="Reminder a day before").runs
    assert set(reminders.values_list("status", flat=True)) == {"waiting"}
    assert reminders.count() == 5

    payments = Payment.objects.filter(workspace=acme)
    refunded = payments.get(description="Teeth whitening kit")
    assert (refunded.status, refunded.amount, refunded.amount_refunded) == ("succeeded", 6000, 2000)
    assert refunded.refunds.get().status == "succeeded"
    declined = payments.get(contact__name="Declan Ross")
    assert declined.status == "failed" and declined.failure_code == "generic_decline"

    statuses = dict(Invoice.objects.filter(workspace=acme).values_list("notes", "status"))
    assert sorted(statuses.values()) == sorted(["paid", "partially_paid", "open", "void", "draft"])
    payer = get_user_model().objects.get(username="payer@acme.test")
    open_items = WorkItem.objects.filter(workspace=acme, status="open").select_related("invoice")
    assert {item.invoice.status for item in open_items} == {"open", "partially_paid"}
    assert set(work_items_for(payer, acme).filter(status="open")) == set(open_items)
    bank = BankAccount.objects.get(payer__user=payer)
    assert (bank.status, bank.last4) == ("verified", "6789")

    credentials = connection_credentials(acme.stripe_connections.get())
    payout = bank_accounts_list(credentials, account_id="acct_1AcmeDentalDemo")
    assert [(b.bank_name, b.last4, b.status) for b in payout] == [
        ("STRIPE TEST BANK", "6789", "verified")
    ]
    balance = balance_retrieve(credentials)
    assert sum(a.amount for a in balance.available + balance.pending) > 0
