"""Every workspace page: who gets in, 403 (member without the permission), 404 (outsider).

A URL added under w/<ws>/ without a row here fails
`test_every_workspace_url_has_a_row_with_the_views_own_permission`. POST-only pages are tried
with POST (allowed users are redirected); the others with GET (allowed users get 200).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from automation.models import Run
from automation.services.workflows import step_add, trigger_set, workflow_create
from billing.models import Payment, PaymentLink
from integrations.services import connection_create_from_key
from invoices.models import InvoicePayment, ScopeType
from invoices.services import invoice_issue, invoice_process, invoice_save, payment_process_save
from portal import perms
from portal.permissions import workspace_permissions
from tests.automation.factories import AppointmentFactory, CalendarFactory, FormFactory
from tests.factories import ContactFactory, StripeEventFactory, WebhookEndpointFactory

PERSONAS = ["owner", "staff", "viewer", "payer", "norole"]

# url name -> (permission, needs: which object the URL names)
PAGES = {
    "workspace_home": (None, None),
    "contact_list": (perms.CONTACTS_VIEW, None),
    "contact_detail": (perms.CONTACTS_VIEW, "contact"),
    "contact_create": (perms.CONTACTS_EDIT, None),
    "contact_edit": (perms.CONTACTS_EDIT, "contact"),
    "member_list": (perms.WORKSPACE_MANAGE, None),
    "member_add": (perms.WORKSPACE_MANAGE, None),
    "member_edit": (perms.WORKSPACE_MANAGE, "membership"),
    "member_remove": (perms.WORKSPACE_MANAGE, "membership"),
    "role_list": (perms.WORKSPACE_MANAGE, None),
    "role_create": (perms.WORKSPACE_MANAGE, None),
    "role_edit": (perms.WORKSPACE_MANAGE, "role"),
    "org_unit_list": (perms.WORKSPACE_MANAGE, None),
    "org_unit_create": (perms.WORKSPACE_MANAGE, None),
    "org_unit_edit": (perms.WORKSPACE_MANAGE, "org_unit"),
    "stripe_dashboard": (perms.STRIPE_VIEW, None),
    "stripe_connection_create": (perms.STRIPE_ALL, None),
    "stripe_connection_edit": (perms.STRIPE_ALL, "connection"),
    "stripe_connection_check": (perms.STRIPE_ALL, "connection"),
    "stripe_connection_remove": (perms.STRIPE_ALL, "connection"),
    "stripe_connection_webhooks": (perms.STRIPE_ALL, "connection"),
    "stripe_oauth_start": (perms.STRIPE_ALL, None),
    "stripe_customer_list": (perms.STRIPE_READ, None),
    "stripe_customer_detail": (perms.STRIPE_READ, "customer"),
    "stripe_customer_delete": (perms.STRIPE_ALL, "customer"),
    "stripe_event_list": (perms.STRIPE_READ, None),
    "stripe_events_fetch": (perms.STRIPE_ALL, None),
    "stripe_event_detail": (perms.STRIPE_READ, "event"),
    "stripe_event_replay": (perms.STRIPE_ALL, "event"),
    "form_list": (perms.WORKFLOW_EDIT, None),
    "form_create": (perms.WORKFLOW_EDIT, None),
    "form_edit": (perms.WORKFLOW_EDIT, "form"),
    "form_submission_list": (perms.WORKFLOW_EDIT, "form"),
    "calendar_list": (perms.WORKFLOW_EDIT, None),
    "calendar_create": (perms.WORKFLOW_EDIT, None),
    "calendar_edit": (perms.WORKFLOW_EDIT, "calendar"),
    "appointment_list": (perms.WORKFLOW_EDIT, None),
    "appointment_detail": (perms.WORKFLOW_EDIT, "appointment"),
    "workflow_list": (perms.WORKFLOW_EDIT, None),
    "workflow_create": (perms.WORKFLOW_EDIT, None),
    "workflow_builder": (perms.WORKFLOW_EDIT, "workflow"),
    "workflow_rename": (perms.WORKFLOW_EDIT, "workflow"),
    "workflow_duplicate": (perms.WORKFLOW_EDIT, "workflow"),
    "workflow_delete": (perms.WORKFLOW_EDIT, "workflow"),
    "workflow_publish": (perms.WORKFLOW_PUBLISH, "workflow"),
    "workflow_trigger": (perms.WORKFLOW_EDIT, "workflow"),
    "workflow_step_add": (perms.WORKFLOW_EDIT, "workflow"),
    "workflow_step": (perms.WORKFLOW_EDIT, "step"),
    "workflow_step_move": (perms.WORKFLOW_EDIT, "step"),
    "workflow_step_remove": (perms.WORKFLOW_EDIT, "step"),
    "workflow_settings": (perms.WORKFLOW_EDIT, "workflow"),
    "workflow_test": (perms.WORKFLOW_EDIT, "workflow"),
    "run_list": (perms.WORKFLOW_EDIT, "workflow"),
    "run_detail": (perms.WORKFLOW_EDIT, "run"),
    "run_retry": (perms.WORKFLOW_EDIT, "run"),
    "contact_charge": (perms.BILLING_CHARGE, "contact"),
    "payment_list": (perms.BILLING_CHARGE, None),
    "payment_detail": (perms.BILLING_CHARGE, "payment"),
    "payment_refund": (perms.BILLING_CHARGE, "payment"),
    "payment_return": (perms.BILLING_CHARGE, "payment"),
    "payment_link_list": (perms.BILLING_CHARGE, None),
    "payment_link_detail": (perms.BILLING_CHARGE, "payment_link"),
    "payment_link_send": (perms.BILLING_CHARGE, "payment_link"),
    "payment_link_cancel": (perms.BILLING_CHARGE, "payment_link"),
    "reconciliation_list": (perms.WORKSPACE_MANAGE, None),
    "reconciliation_run": (perms.WORKSPACE_MANAGE, None),
    "workspace_settings": (perms.WORKSPACE_MANAGE, None),
    "invoice_list": (perms.INVOICES_MANAGE, None),
    "invoice_create": (perms.INVOICES_MANAGE, None),
    "invoice_detail": (perms.INVOICES_MANAGE, "invoice"),
    "invoice_edit": (perms.INVOICES_MANAGE, "invoice"),
    "invoice_issue": (perms.INVOICES_MANAGE, "invoice"),
    "invoice_process": (perms.INVOICES_MANAGE, "invoice"),
    "invoice_void": (perms.INVOICES_MANAGE, "invoice"),
    "invoice_print": (perms.INVOICES_MANAGE, "invoice"),
    "payment_process_edit": (perms.INVOICES_MANAGE, None),
    # Work items: stripe=pay, then assignment (404 for non-assignees, see tests/invoices).
    "work_item_list": (perms.STRIPE_PAY, None),
    "work_item_detail": (perms.STRIPE_PAY, "work_item"),
    "work_item_pay": (perms.STRIPE_PAY, "work_item"),
    "work_item_pay_return": (perms.STRIPE_PAY, "invoice_attempt"),
}
POST_ONLY = {"stripe_connection_check", "stripe_oauth_start", "stripe_events_fetch",
             "stripe_event_replay", "workflow_duplicate", "workflow_publish",
             "workflow_step_move", "workflow_step_remove", "run_retry",
             "payment_link_send"}  # fmt: skip
POST_ONLY |= {"invoice_issue", "invoice_process"}
POST_ONLY |= {"reconciliation_run"}
# GET pages whose answer is a redirect (allowed users get 302).
REDIRECTS = {"work_item_pay_return"}


def _objects(workspace, org_units, staff, sandbox):
    secret, publishable, _ = sandbox.new_account(name="Acme Dental")
    connection = connection_create_from_key(
        workspace=workspace, secret_key=secret, publishable_key=publishable
    )
    customer = sandbox.client(secret).v1.customers.create(params={"email": "j@example.com"})
    endpoint = WebhookEndpointFactory(connection=connection)
    event = StripeEventFactory(endpoint=endpoint, status="failed")
    return {
        "connection": ("connection_uuid", connection.uuid),
        "customer": ("customer_id", customer.id),
        "event": ("event_uuid", event.uuid),
        "contact": ("contact_uuid", ContactFactory(workspace=workspace).uuid),
        "membership": ("membership_uuid", staff.memberships.get(workspace=workspace).uuid),
        "role": ("role_uuid", workspace.roles.get(name=perms.STAFF).uuid),
        "org_unit": ("unit_uuid", org_units["/acme/Branch B"].uuid),
        "form": ("form_uuid", FormFactory(workspace=workspace).uuid),
        "calendar": ("calendar_uuid", (calendar := CalendarFactory(workspace=workspace)).uuid),
        "appointment": ("appointment_uuid", AppointmentFactory(calendar=calendar).uuid),
        "workflow": ("workflow_uuid", (workflow := _workflow(workspace)).uuid),
        "step": ("step", {"workflow_uuid": workflow.uuid, "step_key": "filter"}),
        "run": ("run", {"workflow_uuid": workflow.uuid, "run_uuid": _failed_run(workflow).uuid}),
        **_invoice_objects(workspace, org_units, staff),
        "payment": ("payment_uuid", _payment(workspace, connection).uuid),
        "payment_link": ("link_uuid", _payment_link(workspace, connection).uuid),
    }


def _payment(workspace, connection):
    return Payment.objects.create(workspace=workspace, connection=connection, source="card_on_file",
                                  idempotency_key="access", amount=4999, currency="usd",
                                  status="succeeded")  # fmt: skip


def _payment_link(workspace, connection):
    contact = ContactFactory(workspace=workspace, email="payer@example.com")
    return PaymentLink.objects.create(workspace=workspace, connection=connection, contact=contact,
                                      amount=4999, currency="usd", description="Access",
                                      expires_at=timezone.now() + timedelta(days=7))  # fmt: skip


def _invoice_objects(workspace, org_units, staff):
    """An invoice processed into a work item for the payer (Branch A) and the owner (/acme):
    both need the item's role, so the owner is an Invoice Payer here too (its permissions are
    unchanged, it has them all)."""
    role = workspace.roles.get(name=perms.INVOICE_PAYER)
    for membership in workspace.memberships.filter(roles__name=perms.OWNER):
        membership.roles.add(role)
    payment_process_save(
        workspace=workspace,
        assignee_name="Invoice payers",
        org_unit=org_units["/acme"],
        scope_type=ScopeType.TREE,
        role=role,
    )
    invoice = invoice_save(
        workspace=workspace,
        contact=ContactFactory(workspace=workspace),
        org_unit=None,
        currency="usd",
        due_date=None,
        notes="",
        lines=[{"description": "Leads", "quantity": 1, "unit_price": 5000}],
    )
    item = invoice_process(invoice=invoice_issue(invoice=invoice))
    attempt = InvoicePayment.objects.create(
        invoice=invoice, work_item=item, number=1, payer=staff, method="card", amount=100
    )
    return {
        "invoice": ("invoice_uuid", invoice.uuid),
        "work_item": ("item_uuid", item.uuid),
        "invoice_attempt": ("attempt", {"item_uuid": item.uuid, "attempt_uuid": attempt.uuid}),
    }


def _workflow(workspace):
    workflow = workflow_create(workspace=workspace, name="Pay per lead")
    trigger_set(workflow=workflow, type="manual", config={})
    step_add(workflow=workflow, type="filter")
    return workflow


def _failed_run(workflow):
    return Run.objects.create(workspace=workflow.workspace, workflow=workflow, is_test=True,
                              test_definition=workflow.definition, trigger_type="manual",
                              cause="access", status=Run.Status.FAILED)  # fmt: skip


def _url(name, needs, objects, slug="acme"):
    kwargs = {"ws": slug}
    if needs:
        key, value = objects[needs]
        kwargs.update(value if isinstance(value, dict) else {key: value})  # dict: several args
    return reverse(name, kwargs=kwargs)


def _granted(workspace, user) -> frozenset[str]:
    return workspace_permissions(user, workspace)


@pytest.fixture
def objects(workspace, org_units, staff, owner, sandbox, settings):
    settings.STRIPE_CONNECT_CLIENT_ID = "ca_access_matrix"
    return _objects(workspace, org_units, staff, sandbox)


def _try(client, name, url):
    """GET a page, or POST to a POST-only one; the status that comes back."""
    return (client.post(url) if name in POST_ONLY else client.get(url)).status_code


@pytest.mark.parametrize("name", sorted(PAGES))
def test_members_get_in_or_403_by_permission(
    name, request, workspace, objects, owner, staff, viewer, payer, norole, as_user
):
    perm, needs = PAGES[name]
    url = _url(name, needs, objects)
    allowed = 302 if name in POST_ONLY | REDIRECTS else 200
    for persona in PERSONAS:
        user = request.getfixturevalue(persona)
        expected = allowed if perm is None or perm in _granted(workspace, user) else 403
        client = as_user(user)
        assert _try(client, name, url) == expected, f"{persona} {url}"
        if expected == 403:
            response = client.get(url)
            assert b"have access to this page" in response.content
            assert perm.encode() in response.content  # the page names what is missing


@pytest.mark.parametrize("name", sorted(PAGES))
def test_outsiders_get_404_and_anonymous_users_the_login_page(
    name, objects, outsider, as_user, client
):
    url = _url(name, PAGES[name][1], objects)
    assert as_user(outsider).get(url).status_code == 404
    assert as_user(outsider).post(url, {"name": "x"}).status_code == 404
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_owner_role_reaches_every_page(objects, owner, as_user):
    client = as_user(owner)
    for name, (_, needs) in PAGES.items():
        expected = 302 if name in POST_ONLY | REDIRECTS else 200
        assert _try(client, name, _url(name, needs, objects)) == expected, name


def _patterns(entries):
    for entry in entries:
        if isinstance(entry, URLResolver):
            yield from _patterns(entry.url_patterns)
        elif isinstance(entry, URLPattern):
            yield entry


def _workspace_patterns():
    for entry in get_resolver().url_patterns:
        if isinstance(entry, URLResolver) and "<slug:ws>" in str(entry.pattern):
            yield from _patterns(entry.url_patterns)


def test_every_workspace_url_has_a_row_with_the_views_own_permission():
    seen = {}
    for pattern in _workspace_patterns():
        seen[pattern.name] = getattr(pattern.callback, "required_permission", "undeclared")
    missing = set(seen) - set(PAGES)
    assert not missing, f"add rows for {sorted(missing)}"
    for name in PAGES:
        assert seen[name] == PAGES[name][0], f"{name}: view requires {seen[name]}"
