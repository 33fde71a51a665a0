"""A large workspace for the list-page benchmarks: `manage.py perf_data`.

Everything goes in with bulk inserts in one transaction, so the default 10,000 runs (100,000
step runs) and 10,000 payments take seconds on SQLite and on PostgreSQL. No call
reaches Stripe: the connection and its webhook endpoint are rows with fake keys. The builders
(`contacts_add`, `runs_add`, ...) are used by the query-count tests too.
"""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from itertools import cycle

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection as db
from django.db import transaction
from django.utils import timezone

from automation.definition import steps_walk
from automation.models import Run, StepRun, Workflow
from automation.services import workflows as wf
from billing.models import Payment, PaymentLink
from integrations.gateway.client import API_VERSION
from integrations.models import StripeConnection, StripeEvent, WebhookEndpoint
from invoices.models import Invoice, InvoiceLine, PaymentProcess, ScopeType, WorkItem
from invoices.services import payment_process_save
from portal import perms
from portal.models import Contact, Membership, OrgUnit, Workspace
from portal.services import builtin_roles_ensure

User = get_user_model()

PASSWORD = "perf-pass-2026"
OWNER, PAYER = "perf-owner", "perf-payer"
BATCH = 2000
DAYS = 90  # runs and payments are spread over the last 90 days
RUN_STATUSES = [*[Run.Status.SUCCEEDED] * 8, Run.Status.FAILED, Run.Status.STOPPED]
PAYMENT_SOURCES = list(Payment.Source)
PAYMENT_STATUSES = [*[Payment.Status.SUCCEEDED] * 8, Payment.Status.FAILED, Payment.Status.PENDING]
EVENT_TYPES = [
    "payment_intent.succeeded",
    "charge.succeeded",
    "payment_intent.payment_failed",
    "customer.created",
    "charge.refunded",
]


def _bulk(model, rows: list) -> list:
    """Insert in batches; the rows come back with their primary keys (SQLite 3.35+ and
    PostgreSQL return them)."""
    return model.objects.bulk_create(rows, batch_size=BATCH)


def _prep(model, field: str, value):
    """`value` as the database takes it for `model.field` (what the ORM does per value)."""
    return model._meta.get_field(field).get_db_prep_save(value, db)


def _insert(model, rows: list[dict]) -> int:
    """INSERT rows of prepared values (see `_prep`), the model's defaults for the fields they
    leave out: no model instances, so the 100,000 step runs go in several times faster than
    with bulk_create. PostgreSQL takes them with COPY (psycopg's client-side binding of a
    many-row INSERT spends seconds splitting the query), SQLite with `executemany`. Returns
    the number of rows."""
    if not rows:
        return 0
    given = list(rows[0])
    rest = [f for f in model._meta.concrete_fields if f.name not in given and not f.primary_key]
    if any(f.unique for f in rest):  # one default for every row would collide
        raise ValueError(f"give {[f.name for f in rest if f.unique]} for each row")
    defaults = tuple(f.get_db_prep_save(f.get_default(), db) for f in rest)
    quote = db.ops.quote_name
    fields = [model._meta.get_field(name) for name in given] + rest
    table, columns = quote(model._meta.db_table), ", ".join(quote(f.column) for f in fields)
    values = ((*row.values(), *defaults) for row in rows)
    with db.cursor() as cursor:
        if db.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
        else:
            # Only the model's own (quoted) table and column names are in the text.
            sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"  # noqa: S608
            cursor.executemany(sql, list(values))
    return len(rows)


def _ago(i: int, count: int, now):
    """Row i of count, spread evenly over the last DAYS days, the last one newest."""
    return now - timedelta(days=DAYS) * (count - 1 - i) / max(count, 1)


def contacts_add(workspace: Workspace, count: int) -> list[Contact]:
    rows = []
    for i in range(count):
        key = uuid.uuid4().hex[:12]
        rows.append(
            Contact(
                workspace=workspace,
                name=f"Perf Contact {key}",
                phone="+1 555 0100",
                email=f"perf-{key}@example.com",
                stripe_customer_id=f"cus_{key}",
                custom_fields={"lead_value": str(50 + i % 200)},
            )
        )
    return _bulk(Contact, rows)


def connection_add(workspace: Workspace) -> tuple[StripeConnection, WebhookEndpoint]:
    """A connection row with a fake key (never used: no page of the benchmark calls Stripe)."""
    key = uuid.uuid4().hex[:16]
    connection = StripeConnection.objects.create(
        workspace=workspace,
        secret_key=f"sk_test_perf{key}4242",
        mode="test",
        publishable_key=f"pk_test_perf{key}4242",
        account_id=f"acct_perf{key}",
        account_name=f"{workspace.name} (perf)",
        key_prefix="sk_test_",
        key_last4="4242",
        is_default=not workspace.stripe_connections.exists(),
        health=StripeConnection.Health.OK,
    )
    endpoint = WebhookEndpoint.objects.create(connection=connection, secret=f"whsec_perf{key}")
    return connection, endpoint


def workflow_add(workspace: Workspace, *, steps: int, name: str = "Perf workflow") -> Workflow:
    """A published workflow (manual trigger) of `steps` filter steps."""
    workflow = wf.workflow_create(workspace=workspace, name=name)
    wf.trigger_set(workflow=workflow, type="manual", config={})
    for n in range(1, steps + 1):
        step = wf.step_add(workflow=workflow, type="filter")
        config = {"left": "{{ trigger.type }}", "operator": "is_not_empty"}
        wf.step_update(workflow=workflow, key=step["key"], name=f"Check {n}", config=config)
    wf.workflow_publish(workflow=Workflow.objects.get(pk=workflow.pk))
    return Workflow.objects.select_related("published_version").get(pk=workflow.pk)


def runs_add(workflow: Workflow, count: int, *, step_runs: int, contacts: list[Contact]) -> int:
    """`count` runs of the published version spread over DAYS days, with `step_runs` step runs
    shared out between them (in the order of the workflow's steps, at most one per step).
    Returns the number of step runs made."""
    if count < 1:
        return 0
    version = workflow.published_version
    steps = [placed.step for placed in steps_walk(version.definition)]
    people = cycle([c.pk for c in contacts] or [None])
    now = timezone.now()
    batch = uuid.uuid4().hex  # names this call's runs, to read their ids back
    rows = []
    for i in range(count):
        status = RUN_STATUSES[i % len(RUN_STATUSES)]
        failed = status == Run.Status.FAILED
        at = _prep(Run, "created_at", _ago(i, count, now))
        rows.append({
            "uuid": _prep(Run, "uuid", uuid.uuid4()), "workspace": workflow.workspace_id,
            "workflow": workflow.pk, "version": version.pk, "contact": next(people),
            "trigger_type": "manual", "cause": f"perf:{batch}:{i}", "status": status.value,
            "trigger": _prep(Run, "trigger", {"type": "manual", "data": {"object": {"n": i}}}),
            "error_code": "PAYMENT_REQUIRED" if failed else "",
            "error_message": "Your card was declined." if failed else "",
            "created_at": at, "started_at": at, "finished_at": at,
        })  # fmt: skip
    _insert(Run, rows)
    ids = workflow.runs.filter(cause__startswith=f"perf:{batch}:").order_by("pk")
    shares = [step_runs // count + (i < step_runs % count) for i in range(count)]
    step_rows = _step_rows(steps, now)
    return _insert(StepRun, [
        {**step_rows[position], "run": pk}
        for pk, share in zip(ids.values_list("pk", flat=True), shares, strict=True)
        for position in range(min(share, len(steps)))
    ])  # fmt: skip


def _step_rows(steps: list[dict], now) -> list[dict]:
    """The prepared values of a run's step runs, but their run (one per step, succeeded)."""
    inputs = _prep(StepRun, "inputs", {"left": "manual", "operator": "is_not_empty"})
    outputs, at = _prep(StepRun, "outputs", {"passed": True}), _prep(StepRun, "started_at", now)
    return [
        {"step_key": step["key"], "step_type": step["type"], "name": step["name"],
         "position": position, "status": StepRun.Status.SUCCEEDED.value, "attempts": 1,
         "inputs": inputs, "outputs": outputs, "started_at": at, "finished_at": at}
        for position, step in enumerate(steps)
    ]  # fmt: skip


def payments_add(
    workspace: Workspace, connection: StripeConnection, count: int, *, contacts: list[Contact]
) -> int:
    """Payments from every source, mostly succeeded, spread over DAYS days."""
    people = cycle([c.pk for c in contacts] or [None])
    now = timezone.now()
    rows = []
    for i in range(count):
        status = PAYMENT_STATUSES[i % len(PAYMENT_STATUSES)]
        succeeded = status == Payment.Status.SUCCEEDED
        key = uuid.uuid4().hex
        at = _prep(Payment, "created_at", _ago(i, count, now))
        rows.append({
            "uuid": _prep(Payment, "uuid", uuid.uuid4()), "workspace": workspace.pk,
            "connection": connection.pk, "contact": next(people),
            "source": PAYMENT_SOURCES[i % len(PAYMENT_SOURCES)].value, "origin": "perf_data",
            "idempotency_key": f"perf:payment:{key}", "amount": 1000 + (i % 50) * 250,
            "currency": "usd", "description": f"Perf payment {i}", "status": status.value,
            "amount_refunded": 500 if succeeded and i % 40 == 0 else 0,
            "stripe_payment_intent_id": f"pi_{key}",
            "stripe_charge_id": f"ch_{key}" if succeeded else "",
            "failure_code": "card_declined" if status == Payment.Status.FAILED else "",
            "created_at": at, "updated_at": at, "succeeded_at": at if succeeded else None,
        })  # fmt: skip
    return _insert(Payment, rows)


def links_add(
    workspace: Workspace, connection: StripeConnection, count: int, *, contacts: list[Contact]
) -> list[PaymentLink]:
    """Open, cancelled and paid links; a paid one is tied to a succeeded link payment that
    has none yet."""
    paid = iter(
        workspace.payments.filter(
            source=Payment.Source.PAYMENT_LINK, status=Payment.Status.SUCCEEDED,
            contact__isnull=False, link__isnull=True,
        ).order_by("-pk")[: -(-count // 3)]
    )  # fmt: skip
    people = cycle(contacts)
    now = timezone.now()
    rows = []
    for i in range(count):
        payment = next(paid, None) if i % 3 == 0 else None
        status = PaymentLink.Status.CANCELLED if i % 3 == 1 else PaymentLink.Status.OPEN
        status = PaymentLink.Status.PAID if payment else status
        rows.append(
            PaymentLink(
                workspace=workspace,
                connection=connection,
                contact_id=payment.contact_id if payment else next(people).pk,
                amount=payment.amount if payment else 4999,
                currency="usd",
                status=status,
                description=f"Perf link {i}",
                expires_at=now + timedelta(days=7 - i % 10),
                payment=payment,
                sent_at=now,
                sent_count=1 + i % 2,
                paid_at=now if payment else None,
            )
        )
    return _bulk(PaymentLink, rows)


def invoices_add(
    workspace: Workspace, count: int, *, contacts: list[Contact], lines: int = 2
) -> list[Invoice]:
    """Invoices with `lines` lines each; four in five open with an open work item for the
    payment process's assignees, the rest paid with a closed one."""
    process = PaymentProcess.objects.get(workspace=workspace)
    last = workspace.invoices.order_by("-number").values_list("number", flat=True).first() or 0
    people = cycle(contacts)
    now = timezone.now()
    rows = []
    for i in range(count):
        paid = i % 5 == 4
        total = sum(2500 * (n + 1) for n in range(lines))
        rows.append(
            Invoice(
                workspace=workspace,
                number=last + 1 + i,
                contact=next(people),
                currency="usd",
                due_date=(now + timedelta(days=30)).date(),
                status=Invoice.Status.PAID if paid else Invoice.Status.OPEN,
                total=total,
                amount_paid=total if paid else 0,
            )
        )
    invoices = _bulk(Invoice, rows)
    _bulk(
        InvoiceLine,
        [
            InvoiceLine(
                invoice=invoice,
                position=n,
                description=f"Service {n + 1}",
                quantity=1,
                unit_price=2500 * (n + 1),
            )
            for invoice in invoices
            for n in range(lines)
        ],
    )
    _bulk(
        WorkItem,
        [
            WorkItem(
                workspace=workspace,
                invoice=invoice,
                assignee_name=process.assignee_name,
                org_unit_id=process.org_unit_id,
                scope_type=process.scope_type,
                role_id=process.role_id,
                status=WorkItem.Status.CLOSED if invoice.amount_paid else WorkItem.Status.OPEN,
                closed_at=now if invoice.amount_paid else None,
            )
            for invoice in invoices
        ],
    )
    return invoices


def events_add(endpoint: WebhookEndpoint, count: int) -> int:
    """Received events of several types, mostly processed, one a minute back from now."""
    now = timezone.now()
    rows = []
    for i in range(count):
        event_id = f"evt_perf{uuid.uuid4().hex}"
        kind = EVENT_TYPES[i % len(EVENT_TYPES)]
        payload = {
            "id": event_id,
            "object": "event",
            "type": kind,
            "api_version": API_VERSION,
            "livemode": False,
            "data": {"object": {"id": f"pi_perf{i}", "amount": 4999}},
        }
        status = StripeEvent.Status.FAILED if i % 20 == 0 else StripeEvent.Status.PROCESSED
        rows.append({
            "uuid": _prep(StripeEvent, "uuid", uuid.uuid4()), "endpoint": endpoint.pk,
            "event_id": event_id, "type": kind, "api_version": API_VERSION,
            "created": _prep(StripeEvent, "created", now - timedelta(minutes=i)),
            "payload": _prep(StripeEvent, "payload", payload), "status": status.value,
            "attempts": 1, "received_at": _prep(StripeEvent, "received_at", now),
        })  # fmt: skip
    return _insert(StripeEvent, rows)


class Command(BaseCommand):
    help = "Create a large workspace (runs, step runs, payments, ...) for the list benchmarks."

    def add_arguments(self, parser):
        parser.add_argument("--workspace", default="perf", help="slug of the workspace to create")
        parser.add_argument("--runs", type=int, default=10_000)
        parser.add_argument("--step-runs", type=int, default=100_000)
        parser.add_argument("--payments", type=int, default=10_000)
        parser.add_argument("--links", type=int, default=None, help="default: payments / 10")
        parser.add_argument("--contacts", type=int, default=2_000)
        parser.add_argument("--invoices", type=int, default=2_000)
        parser.add_argument("--events", type=int, default=10_000)

    def handle(self, *args, **options):
        slug = options["workspace"]
        if options["runs"] < 1 or options["step_runs"] < 0 or options["contacts"] < 1:
            raise CommandError("--runs and --contacts must be at least 1.")
        if Workspace.objects.filter(slug=slug).exists():
            self.stdout.write(f"Workspace {slug!r} exists: nothing created (it is reused).")
            self._logins(slug)
            return
        started = time.monotonic()
        with transaction.atomic():
            report = self._generate(slug, options)
        # Fresh statistics, as autovacuum (PostgreSQL) would gather them soon after: without
        # them the planner guesses a few rows per workflow and sorts all 10,000 runs.
        with db.cursor() as cursor:
            cursor.execute("ANALYZE")
        self.stdout.write("\n".join(report))
        total = time.monotonic() - started
        self.stdout.write(self.style.SUCCESS(f"Workspace {slug!r} ready in {total:.1f} s."))
        self._logins(slug)

    def _generate(self, slug: str, options) -> list[str]:
        report: list[str] = []

        def timed(label, build, count=len):
            began = time.monotonic()
            result = build()
            report.append(f"{label:>20}: {count(result):>7} in {time.monotonic() - began:.2f} s")
            return result

        workspace = Workspace.objects.create(name=f"Perf {slug}", slug=slug)
        roles = builtin_roles_ensure(workspace=workspace)
        root = OrgUnit.objects.create(workspace=workspace, name=slug, path=f"/{slug}")
        branch = OrgUnit.objects.create(
            workspace=workspace, name="Branch A", parent=root, path=f"/{slug}/Branch A"
        )
        self._member(workspace, OWNER, roles[perms.OWNER], root)
        self._member(workspace, PAYER, roles[perms.INVOICE_PAYER], branch)
        payment_process_save(
            workspace=workspace,
            assignee_name="Invoice payers",
            org_unit=root,
            scope_type=ScopeType.TREE,
            role=roles[perms.INVOICE_PAYER],
        )
        connection, endpoint = connection_add(workspace)
        runs, step_runs = options["runs"], options["step_runs"]
        workflow = workflow_add(workspace, steps=max(1, -(-step_runs // runs)))
        contacts = timed("contacts", lambda: contacts_add(workspace, options["contacts"]))
        timed(
            f"step runs (of {runs} runs)",
            lambda: runs_add(workflow, runs, step_runs=step_runs, contacts=contacts),
            count=int,
        )
        timed(
            "payments",
            lambda: payments_add(workspace, connection, options["payments"], contacts=contacts),
            count=int,
        )
        links = options["links"] if options["links"] is not None else options["payments"] // 10
        timed(
            "payment links",
            lambda: links_add(workspace, connection, links, contacts=contacts),
        )
        timed("invoices", lambda: invoices_add(workspace, options["invoices"], contacts=contacts))
        timed("events", lambda: events_add(endpoint, options["events"]), count=int)
        return report

    def _member(self, workspace, username: str, role, unit) -> None:
        user, created = User.objects.get_or_create(
            username=username, defaults={"email": f"{username}@perf.test", "first_name": "Perf"}
        )
        if created:
            user.set_password(PASSWORD)
            user.save()
        membership = Membership.objects.create(workspace=workspace, user=user, org_unit=unit)
        membership.roles.add(role)

    def _logins(self, slug: str) -> None:
        self.stdout.write(
            f"Log in as {OWNER} (owner) or {PAYER} (invoice payer), password {PASSWORD}: /w/{slug}/"
        )
