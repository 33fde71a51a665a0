"""Every workspace page x every persona x GET and POST: the answer each one gets.

A row per URL under w/<ws>/: the permission the view declares, the object the URL names, and
what a member holding the permission gets for a GET and for an empty POST (200: the page, or
the form again with its errors; 302: done, or sent on; 405: the page does not take that
method). A member without the permission gets 403 for both, someone from another workspace
404, an anonymous visitor the log-in page, and none of them changes anything. A URL added
under w/<ws>/ without a row fails `test_every_workspace_url_has_a_row_with_the_views_own_
permission`; tests/test_access_public.py holds the rows of every other URL of the project.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from automation.models import Run, WorkflowVersion
from automation.services.workflows import step_add, trigger_set, workflow_create
from billing.models import Payment, PaymentLink
from integrations.services import connection_create_from_key
from invoices.models import InvoicePayment, ScopeType
from invoices.services import invoice_issue, invoice_process, invoice_save, payment_process_save
from portal import perms
from portal.models import Invitation
from portal.permissions import workspace_permissions
from tests.automation.factories import AppointmentFactory, CalendarFactory, FormFactory
from tests.factories import ContactFactory, StripeEventFactory, WebhookEndpointFactory

PERSONAS = ["owner", "staff", "viewer", "payer", "norole"]

# url name -> (permission, object the URL names, GET and POST answers with the permission)
PAGES = {
    "workspace_home": (None, None, 200, 405),
    "contact_list": (perms.CONTACTS_VIEW, None, 200, 405),
    "contact_detail": (perms.CONTACTS_VIEW, "contact", 200, 405),
    "contact_create": (perms.CONTACTS_EDIT, None, 200, 200),
    "contact_edit": (perms.CONTACTS_EDIT, "contact", 200, 200),
    "member_list": (perms.WORKSPACE_MANAGE, None, 200, 405),
    "member_add": (perms.WORKSPACE_MANAGE, None, 200, 200),
    "member_edit": (perms.WORKSPACE_MANAGE, "membership", 200, 200),
    "member_remove": (perms.WORKSPACE_MANAGE, "membership", 200, 302),
    "member_invitation_resend": (perms.WORKSPACE_MANAGE, "invitation", 405, 302),
    "member_invitation_revoke": (perms.WORKSPACE_MANAGE, "invitation", 200, 302),
    "role_list": (perms.WORKSPACE_MANAGE, None, 200, 405),
    "role_create": (perms.WORKSPACE_MANAGE, None, 200, 200),
    "role_edit": (perms.WORKSPACE_MANAGE, "role", 200, 200),
    "org_unit_list": (perms.WORKSPACE_MANAGE, None, 200, 405),
    "org_unit_create": (perms.WORKSPACE_MANAGE, None, 200, 200),
    "org_unit_edit": (perms.WORKSPACE_MANAGE, "org_unit", 200, 200),
    "audit_log": (perms.WORKSPACE_MANAGE, None, 200, 405),
    "stripe_dashboard": ((perms.STRIPE_VIEW, perms.STRIPE_READ), None, 200, 405),
    "stripe_connection_create": (perms.STRIPE_ALL, None, 200, 200),
    "stripe_connection_edit": (perms.STRIPE_ALL, "connection", 200, 200),
    "stripe_connection_check": (perms.STRIPE_ALL, "connection", 405, 302),
    "stripe_connection_remove": (perms.STRIPE_ALL, "connection", 200, 302),
    "stripe_connection_webhooks": (perms.STRIPE_ALL, "connection", 200, 200),
    "stripe_oauth_start": (perms.STRIPE_ALL, None, 405, 302),
    "integrations_settings": (perms.STRIPE_VIEW, None, 200, 405),
    "stripe_customer_list": (perms.STRIPE_READ, None, 200, 405),
    "stripe_customer_add": (perms.STRIPE_ALL, None, 200, 200),
    "stripe_customer_detail": (perms.STRIPE_READ, "customer", 200, 405),
    "stripe_customer_delete": (perms.STRIPE_ALL, "doomed_customer", 200, 302),
    "stripe_event_list": (perms.STRIPE_READ, None, 200, 405),
    "stripe_events_fetch": (perms.STRIPE_ALL, None, 405, 302),
    "stripe_event_detail": (perms.STRIPE_READ, "event", 200, 405),
    "stripe_event_replay": (perms.STRIPE_ALL, "event", 405, 302),
    "form_list": (perms.WORKFLOW_EDIT, None, 200, 405),
    "form_create": (perms.WORKFLOW_EDIT, None, 200, 200),
    "form_edit": (perms.WORKFLOW_EDIT, "form", 200, 200),
    "form_submission_list": (perms.WORKFLOW_EDIT, "form", 200, 405),
    "calendar_list": (perms.WORKFLOW_EDIT, None, 200, 405),
    "calendar_create": (perms.WORKFLOW_EDIT, None, 200, 200),
    "calendar_edit": (perms.WORKFLOW_EDIT, "calendar", 200, 200),
    "appointment_list": (perms.WORKFLOW_EDIT, None, 200, 405),
    "appointment_detail": (perms.WORKFLOW_EDIT, "appointment", 200, 200),
    "workflow_list": (perms.WORKFLOW_EDIT, None, 200, 405),
    "workflow_create": (perms.WORKFLOW_EDIT, None, 200, 200),
    "workflow_builder": (perms.WORKFLOW_EDIT, "workflow", 200, 405),
    "workflow_rename": (perms.WORKFLOW_EDIT, "workflow", 200, 200),
    "workflow_duplicate": (perms.WORKFLOW_EDIT, "workflow", 405, 302),
    "workflow_delete": (perms.WORKFLOW_EDIT, "workflow", 200, 302),
    "workflow_copy": (perms.WORKFLOW_EDIT, "workflow", 200, 200),
    "workflow_export": (perms.WORKFLOW_EDIT, "workflow", 200, 405),
    "workflow_import": (perms.WORKFLOW_EDIT, None, 200, 200),
    "workflow_publish": (perms.WORKFLOW_PUBLISH, "workflow", 405, 302),
    "workflow_publish_changes": (perms.WORKFLOW_PUBLISH, "workflow", 405, 302),
    "workflow_versions": (perms.WORKFLOW_EDIT, "workflow", 200, 405),
    "workflow_version_restore": (perms.WORKFLOW_EDIT, "version", 200, 302),
    "workflow_trigger": (perms.WORKFLOW_EDIT, "workflow", 200, 302),
    "workflow_step_add": (perms.WORKFLOW_EDIT, "workflow", 200, 302),
    "workflow_step": (perms.WORKFLOW_EDIT, "step", 200, 200),
    "workflow_step_move": (perms.WORKFLOW_EDIT, "step", 405, 302),
    "workflow_step_remove": (perms.WORKFLOW_EDIT, "step", 405, 302),
    "workflow_settings": (perms.WORKFLOW_EDIT, "workflow", 200, 200),
    "workflow_test": (perms.WORKFLOW_EDIT, "workflow", 200, 200),
    "run_list": (perms.WORKFLOW_EDIT, "workflow", 200, 405),
    "run_detail": (perms.WORKFLOW_EDIT, "run", 200, 405),
    "run_retry": (perms.WORKFLOW_EDIT, "run", 405, 302),
    "run_retry_now": (perms.WORKFLOW_EDIT, "run", 405, 302),
    "run_cancel": (perms.WORKFLOW_EDIT, "run", 200, 302),
    "contact_charge": (perms.BILLING_CHARGE, "contact", 200, 200),
    "contact_card_remove": (perms.BILLING_CHARGE, "card", 200, 302),
    "payment_list": (perms.BILLING_CHARGE, None, 200, 405),
    "payment_detail": (perms.BILLING_CHARGE, "payment", 200, 405),
    "payment_refund": (perms.BILLING_CHARGE, "payment", 200, 200),
    "payment_return": (perms.BILLING_CHARGE, "payment", 200, 405),
    "payment_link_list": (perms.BILLING_CHARGE, None, 200, 405),
    "payment_link_detail": (perms.BILLING_CHARGE, "payment_link", 200, 405),
    "payment_link_email_html": (perms.BILLING_CHARGE, "payment_link", 200, 405),
    "payment_link_send": (perms.BILLING_CHARGE, "payment_link", 405, 302),
    "payment_link_cancel": (perms.BILLING_CHARGE, "payment_link", 200, 302),
    "reconciliation_list": (perms.WORKSPACE_MANAGE, None, 200, 405),
    "reconciliation_run": (perms.WORKSPACE_MANAGE, None, 405, 302),
    "workspace_settings": (perms.WORKSPACE_MANAGE, None, 200, 302),
    "invoice_list": (perms.INVOICES_MANAGE, None, 200, 405),
    "invoice_create": (perms.INVOICES_MANAGE, None, 200, 200),
    "invoice_detail": (perms.INVOICES_MANAGE, "invoice", 200, 405),
    "invoice_edit": (perms.INVOICES_MANAGE, "invoice", 200, 200),
    "invoice_issue": (perms.INVOICES_MANAGE, "invoice", 405, 302),
    "invoice_process": (perms.INVOICES_MANAGE, "invoice", 405, 302),
    "invoice_void": (perms.INVOICES_MANAGE, "invoice", 200, 302),
    "invoice_print": (perms.INVOICES_MANAGE, "invoice", 200, 405),
    "payment_process_edit": (perms.INVOICES_MANAGE, None, 200, 200),
    # Work items: stripe=pay, then assignment (404 for non-assignees, see tests/invoices).
    "work_item_list": (perms.STRIPE_PAY, None, 200, 405),
    "work_item_detail": (perms.STRIPE_PAY, "work_item", 200, 405),
    "work_item_pay": (perms.STRIPE_PAY, "work_item", 200, 200),
    "work_item_pay_return": (perms.STRIPE_PAY, "invoice_attempt", 302, 405),
}


def _objects(workspace, org_units, staff, sandbox):
    secret, publishable, _ = sandbox.new_account(name="Acme Dental")
    connection = connection_create_from_key(
        workspace=workspace, secret_key=secret, publishable_key=publishable
    )
    customers = sandbox.client(secret).v1.customers
    customer = customers.create(params={"email": "j@example.com"})
    # Stripe keeps no transaction: the page that deletes a customer gets one of its own.
    doomed = customers.create(params={"email": "doomed@example.com"})
    # A contact's saved card (Remove: a 302 once detached, and again when detached already).
    carded = customers.create(params={"email": "card@example.com"})
    card = sandbox.client(secret).v1.payment_methods.attach(
        "pm_card_visa", params={"customer": carded.id}
    )
    card_contact = ContactFactory(workspace=workspace, stripe_customer_id=carded.id)
    endpoint = WebhookEndpointFactory(connection=connection)
    # Received an hour ago: "Fetch missed events" (the control of the forged-POST test) then
    # finds the customers' events, whatever the machine's speed.
    event = StripeEventFactory(
        endpoint=endpoint, status="failed", created=timezone.now() - timedelta(hours=1)
    )
    return {
        "connection": ("connection_uuid", connection.uuid),
        "customer": ("customer_id", customer.id),
        "doomed_customer": ("customer_id", doomed.id),
        "event": ("event_uuid", event.uuid),
        "contact": ("contact_uuid", ContactFactory(workspace=workspace).uuid),
        "card": ("card", {"contact_uuid": card_contact.uuid, "payment_method_id": card.id}),
        "membership": ("membership_uuid", staff.memberships.get(workspace=workspace).uuid),
        "invitation": ("invitation_uuid", _invitation(workspace).uuid),
        "role": ("role_uuid", workspace.roles.get(name=perms.STAFF).uuid),
        "org_unit": ("unit_uuid", org_units["/acme/Branch B"].uuid),
        "form": ("form_uuid", FormFactory(workspace=workspace).uuid),
        "calendar": ("calendar_uuid", (calendar := CalendarFactory(workspace=workspace)).uuid),
        "appointment": ("appointment_uuid", AppointmentFactory(calendar=calendar).uuid),
        "workflow": ("workflow_uuid", (workflow := _workflow(workspace)).uuid),
        "step": ("step", {"workflow_uuid": workflow.uuid, "step_key": "filter"}),
        "run": ("run", {"workflow_uuid": workflow.uuid, "run_uuid": _failed_run(workflow).uuid}),
        "version": ("version", {"workflow_uuid": workflow.uuid, "version_uuid": _v1(workflow)}),
        **_invoice_objects(workspace, org_units, staff),
        "payment": ("payment_uuid", _payment(workspace, connection).uuid),
        "payment_link": ("link_uuid", _payment_link(workspace, connection).uuid),
    }


def _invitation(workspace):
    return Invitation.objects.create(workspace=workspace, email="invited@example.com",
                                     expires_at=timezone.now() + Invitation.LIFETIME)  # fmt: skip


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
    # Failed, not pending: an invoice with a payment in flight cannot be edited.
    attempt = InvoicePayment.objects.create(
        invoice=invoice, work_item=item, number=1, payer=staff, method="card", amount=100,
        status=InvoicePayment.Status.FAILED,
    )  # fmt: skip
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


def _v1(workflow):
    """A version 1 with no steps (the draft has one since): restoring it changes the draft."""
    definition = {**workflow.definition, "steps": []}
    return WorkflowVersion.objects.create(
        workflow=workflow, number=1, trigger_type="manual", definition=definition
    ).uuid


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


# What a request may write whatever it is refused (sessions, the log-in audit), and tables
# that only migrations fill.
NOT_DATA = {"sessions", "axes", "contenttypes", "auth.Permission"}


def db_snapshot() -> dict[str, list[tuple]]:
    """Every row of every table of the project's models (auth and the task queue too), by model:
    raw, so that any write shows, even one that stores the same value again encrypted anew."""
    rows = {}
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for model in apps.get_models(include_auto_created=True):
            meta = model._meta
            if {meta.app_label, meta.label} & NOT_DATA or meta.proxy or not meta.managed:
                continue
            cursor.execute(f"SELECT * FROM {quote(meta.db_table)} ORDER BY {quote(meta.pk.column)}")
            rows[meta.label] = cursor.fetchall()
    return rows


def changed_models(before: dict[str, list[tuple]]) -> list[str]:
    """The models whose rows differ from `before` (a `db_snapshot()`)."""
    after = db_snapshot()
    return [label for label in before if before[label] != after[label]]


def rolled_back_status(send, url: str) -> int:
    """The status of `send(url)`, its writes undone so that the next page finds the same data."""
    with transaction.atomic():
        status = send(url).status_code
        transaction.set_rollback(True)
    return status


def _is_login_page(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(reverse("login"))


def _codes(perm) -> tuple[str, ...]:
    """A row's permission as the codes it needs: none, one, or several."""
    return (perm,) if isinstance(perm, str) else perm or ()


def test_the_owner_role_holds_every_pages_permission(workspace, owner):
    assert {code for perm, *_ in PAGES.values() for code in _codes(perm)} <= _granted(
        workspace, owner
    )


@pytest.mark.parametrize("persona", PERSONAS)
def test_a_member_gets_each_rows_answers_or_403_that_changes_nothing(
    persona, request, workspace, objects, as_user
):
    """Every page, GET and an empty POST; the answers that differ from the rows are listed."""
    user = request.getfixturevalue(persona)
    granted = _granted(workspace, user)
    client = as_user(user)
    wrong = []
    state = db_snapshot()  # the same all along: refusals change nothing, the rest is undone
    for name, (perm, needs, get_status, post_status) in sorted(PAGES.items()):
        url = _url(name, needs, objects)
        if set(_codes(perm)) <= granted:
            got = rolled_back_status(client.get, url), rolled_back_status(client.post, url)
            if got != (get_status, post_status):
                wrong.append(f"{name}: GET, POST {got}, expected {get_status, post_status}")
            continue
        for response in (client.get(url), client.post(url)):
            missing = [code for code in _codes(perm) if code not in granted]
            if response.status_code != 403 or any(
                code.encode() not in response.content for code in missing
            ):
                method = response.request["REQUEST_METHOD"]
                wrong.append(f"{name}: {method} {response.status_code}, expected 403 naming {perm}")
        if changed := changed_models(state):
            wrong.append(f"{name}: a refused request changed {changed}")
            state = db_snapshot()
    assert wrong == [], f"{persona}: {wrong}"


def test_outsiders_get_404_and_anonymous_visitors_the_login_page_changing_nothing(
    objects, outsider, as_user, client
):
    stranger = as_user(outsider)
    before = db_snapshot()
    wrong = []
    for name, (_, needs, *_) in sorted(PAGES.items()):
        url = _url(name, needs, objects)
        statuses = {stranger.get(url).status_code, stranger.post(url, {"name": "x"}).status_code}
        if statuses != {404}:
            wrong.append(f"{name}: outsider got {statuses}, not 404")
        if not (_is_login_page(client.get(url)) and _is_login_page(client.post(url))):
            wrong.append(f"{name}: anonymous not sent to the log-in page")
    assert wrong == []
    assert changed_models(before) == []


def url_patterns(entries, prefix=""):
    """(full pattern, URLPattern, namespace) for every URL of `entries`, depth first."""
    for entry in entries:
        if isinstance(entry, URLResolver):
            inner = prefix + str(entry.pattern)
            for full, pattern, namespace in url_patterns(entry.url_patterns, inner):
                yield full, pattern, namespace or entry.namespace
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry, None


def _workspace_patterns():
    for full, pattern, _ in url_patterns(get_resolver().url_patterns):
        if full.startswith("w/<slug:ws>/"):
            yield pattern


def test_every_workspace_url_has_a_row_with_the_views_own_permission():
    seen = {}
    for pattern in _workspace_patterns():
        seen[pattern.name] = getattr(pattern.callback, "required_permission", "undeclared")
    missing = set(seen) - set(PAGES)
    assert not missing, f"add rows for {sorted(missing)}"
    for name in PAGES:
        assert seen[name] == PAGES[name][0], f"{name}: view requires {seen[name]}"
