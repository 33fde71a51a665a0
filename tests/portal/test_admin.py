"""The Django admin: every registered model's pages render, and Stripe secrets never show."""

from __future__ import annotations

import uuid

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone
from django_q.models import OrmQ, Schedule, Task
from django_q.signing import SignedPackage

from automation.models import (
    Appointment,
    Availability,
    Calendar,
    Form,
    FormField,
    Run,
    StepRun,
    Submission,
    Workflow,
    WorkflowVersion,
)
from billing.models import Payment, PaymentEvent, PaymentLink, ReconciliationRun, Refund
from integrations.models import StripeConnection, StripeEvent, WebhookEndpoint
from invoices.models import (
    BankAccount,
    Invoice,
    InvoicePayment,
    PayerProfile,
    PaymentProcess,
    WorkItem,
)
from portal.audit import audit_record
from portal.models import AuditEntry, Contact, Membership, OrgUnit, Role, Workspace
from tests.automation.factories import (
    AppointmentFactory,
    CalendarFactory,
    FormFactory,
    SubmissionFactory,
    published_workflow,
)
from tests.factories import (
    ContactFactory,
    MembershipFactory,
    OrgUnitFactory,
    StripeConnectionFactory,
    StripeEventFactory,
    UserFactory,
    WebhookEndpointFactory,
)

pytestmark = pytest.mark.django_db

SECRET = "sk_test_51VeryS3cretValueThatMustNeverLeak4242"
HOOK = "whsec_signingSecretThatMustNeverLeak"


def _task(*, success: bool) -> Task:
    now = timezone.now()
    return Task.objects.create(
        id=uuid.uuid4().hex,
        name=f"task-{success}",
        func="math.copysign",
        started=now,
        stopped=now,
        success=success,
        result="boom" if not success else 1,
    )


def _axes_rows() -> dict[type, object]:
    who = {"username": "a@acme.test", "ip_address": "203.0.113.9", "user_agent": "test",
           "path_info": "/accounts/login/"}  # fmt: skip
    return {
        AccessAttempt: AccessAttempt.objects.create(
            **who, failures_since_start=5, get_data="", post_data=""
        ),
        AccessLog: AccessLog.objects.create(**who),
        AccessFailureLog: AccessFailureLog.objects.create(**who, locked_out=True),
    }


def _one_of_each(user) -> dict[type, object]:
    """A row for every registered model, so each change page has something to show."""
    workspace = user.memberships.get().workspace
    unit = OrgUnitFactory(workspace=workspace, name="hq")
    task_id = uuid.uuid4().hex
    return {
        Group: Group.objects.create(name="Operators"),
        type(user): user,
        Schedule: Schedule.objects.create(name="nightly", func="math.copysign"),
        Task: _task(success=True),
        Workspace: workspace,
        OrgUnit: unit,
        Role: workspace.roles.first(),
        Membership: MembershipFactory(workspace=workspace, org_unit=unit, roles=["Viewer"]),
        AuditEntry: audit_record(
            workspace=workspace,
            actor=user,
            address="203.0.113.9",
            action=AuditEntry.Action.ROLE_UPDATE,
            summary="Changed the role Viewer",
            changes={"permissions": {"before": ["stripe=view"], "after": []}},
        ),
        Contact: ContactFactory(workspace=workspace, custom_fields={"lead_value": "150"}),
        StripeConnection: (
            connection := StripeConnectionFactory(workspace=workspace, secret_key=SECRET)
        ),
        WebhookEndpoint: (endpoint := WebhookEndpointFactory(connection=connection, secret=HOOK)),
        StripeEvent: StripeEventFactory(endpoint=endpoint),
        Form: (form := FormFactory(workspace=workspace)),
        FormField: form.fields.first(),
        Submission: SubmissionFactory(form=form),
        Calendar: (calendar := CalendarFactory(workspace=workspace)),
        Availability: calendar.availability.first(),
        Appointment: AppointmentFactory(calendar=calendar),
        Workflow: (workflow := published_workflow(workspace, "manual")),
        WorkflowVersion: workflow.published_version,
        Run: (
            run := Run.objects.create(
                workspace=workspace,
                workflow=workflow,
                version=workflow.published_version,
                cause="admin",
            )
        ),
        StepRun: StepRun.objects.create(run=run, step_key="a", step_type="filter", name="A"),
        **_axes_rows(),
        OrmQ: OrmQ.objects.create(
            key="default",
            payload=SignedPackage.dumps({"id": task_id, "name": "queued", "func": "math.floor"}),
        ),
        **_billing_rows(workspace, connection),
        **_invoice_rows(workspace, unit, connection, user),
    }


def _invoice_rows(workspace, unit, connection, user) -> dict[type, object]:
    role = workspace.roles.get(name="Invoice Payer")
    process = PaymentProcess.objects.create(workspace=workspace, org_unit=unit, role=role)
    invoice = Invoice.objects.create(
        workspace=workspace, number=1, contact=ContactFactory(workspace=workspace), total=5000
    )
    invoice.lines.create(description="Leads", quantity=1, unit_price=5000)
    item = WorkItem.objects.create(
        workspace=workspace, invoice=invoice, assignee_name="Payers", org_unit=unit,
        scope_type="UNIT", role=role,
    )  # fmt: skip
    profile = PayerProfile.objects.create(
        user=user, connection=connection, stripe_customer_id="cus_admin"
    )
    bank = BankAccount.objects.create(
        payer=profile, setup_intent_id="seti_admin", payment_method_id="pm_admin", last4="6789"
    )
    attempt = InvoicePayment.objects.create(
        invoice=invoice, work_item=item, number=1, payer=user, method="card", amount=100
    )
    return {PaymentProcess: process, Invoice: invoice, WorkItem: item, PayerProfile: profile,
            BankAccount: bank, InvoicePayment: attempt}  # fmt: skip


def _billing_rows(workspace, connection) -> dict[type, object]:
    contact = ContactFactory(workspace=workspace, email="jane@example.com")
    payment = Payment.objects.create(workspace=workspace, connection=connection, contact=contact,
                                     source="card_on_file", idempotency_key="admin", amount=4999,
                                     currency="usd", status="succeeded")  # fmt: skip
    link = PaymentLink.objects.create(workspace=workspace, connection=connection, contact=contact,
                                      amount=4999, currency="usd", description="Admin",
                                      expires_at=timezone.now(), payment=payment)  # fmt: skip
    return {
        Payment: payment,
        PaymentEvent: PaymentEvent.objects.create(payment=payment, kind="created", message="a"),
        PaymentLink: link,
        Refund: Refund.objects.create(payment=payment, amount=100, reason="duplicate"),
        ReconciliationRun: ReconciliationRun.objects.create(
            workspace=workspace,
            connection=connection,
            since=timezone.now(),
            origin="admin",
            differences=[{"kind": "unknown_intent", "message": "a", "repaired": False}],
        ),
    }


@pytest.fixture
def superuser(workspace):
    user = UserFactory(username="root@agency.test", is_superuser=True, is_staff=True)
    MembershipFactory(user=user, workspace=workspace, roles=["Owner"])
    return user


@pytest.fixture
def rows(superuser):
    objects = _one_of_each(superuser)
    failed = _task(success=False)
    for model in admin.site._registry:
        if model._meta.proxy and model not in objects:  # django-q's Success and Failure
            objects[model] = model.objects.filter(pk=failed.pk).first() or model.objects.first()
    return objects


def _admin_url(model, page: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{page}", args=args)


@pytest.mark.parametrize("model", list(admin.site._registry), ids=lambda m: m._meta.label)
def test_every_admin_page_renders(model, rows, superuser, as_user):
    client = as_user(superuser)
    row = rows[model]
    assert row is not None, f"no row for {model._meta.label}"

    changelist = client.get(_admin_url(model, "changelist"))
    change = client.get(_admin_url(model, "change", row.pk))
    search = client.get(_admin_url(model, "changelist"), {"q": "a"})

    assert changelist.status_code == 200
    assert change.status_code == 200
    assert search.status_code == 200
    for page in (changelist, change, search):  # no secret on any admin page
        assert SECRET not in page.text and HOOK not in page.text


def test_every_registered_model_has_a_row_here(rows):
    assert set(admin.site._registry) <= set(rows)


def test_the_stripe_secret_key_never_appears_in_the_admin(workspace, superuser, as_user):
    connection = StripeConnectionFactory(workspace=workspace, secret_key=SECRET)
    client = as_user(superuser)

    pages = [
        client.get(_admin_url(StripeConnection, "changelist")),
        client.get(_admin_url(StripeConnection, "change", connection.pk)),
        client.get(_admin_url(StripeConnection, "history", connection.pk)),
        client.get(_admin_url(StripeConnection, "add")),
    ]

    for page in pages:
        assert page.status_code == 200
        assert SECRET not in page.text
        assert "VeryS3cret" not in page.text
    assert "sk_test_...4242" in pages[1].text
    assert 'name="secret_key"' not in pages[1].text


def test_saving_a_connection_in_the_admin_keeps_its_secret_key(workspace, superuser, as_user):
    connection = StripeConnectionFactory(workspace=workspace, secret_key=SECRET)
    client = as_user(superuser)
    page = client.get(_admin_url(StripeConnection, "change", connection.pk))
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data = {k: ("" if v is None else v) for k, v in data.items()}
    data["account_name"] = "Renamed"

    response = client.post(_admin_url(StripeConnection, "change", connection.pk), data)

    assert response.status_code == 302
    connection.refresh_from_db()
    assert connection.account_name == "Renamed"
    assert connection.secret_key == SECRET
