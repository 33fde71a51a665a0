"""What the benchmarks do inside the portal, run as `python -m tests.perf.ops <command> <json>`
with a configuration's environment (its database, broker and sandbox); prints one JSON line.

The runner itself never imports Django: each configuration has its own settings, and Django's
are read once per process.
"""

from __future__ import annotations

import json
import sys

import django

django.setup()

from django.db import transaction  # noqa: E402
from stripe_sandbox.control import SandboxControl  # noqa: E402

from automation.demo import LEAD_FIELDS  # noqa: E402
from automation.models import Workflow  # noqa: E402
from automation.services import workflows as wf  # noqa: E402
from automation.services.forms import form_save  # noqa: E402
from automation.services.runs import runs_start_for_trigger  # noqa: E402
from integrations.gateway.customers import customer_create, payment_method_attach  # noqa: E402
from integrations.selectors import connection_credentials  # noqa: E402
from integrations.services import connection_create_from_key, webhook_secret_set  # noqa: E402
from portal.models import Contact, Workspace  # noqa: E402

WEBHOOK_SECRET = "whsec_bench_0123456789abcdef"
LEAD_EMAIL = "lead@bench.test"
FORM_SLUG = "bench-lead-form"


def _step(workflow: Workflow, type: str, name: str, config: dict) -> str:
    step = wf.step_add(workflow=workflow, type=type)
    wf.step_update(workflow=workflow, key=step["key"], name=name, config=config)
    return step["key"]


def _charge_config(connection, customer: str) -> dict:
    return {
        "connection": str(connection.uuid),
        "customer_id": customer,
        "description": "Bench charge",
        "amount": "5.00",
        "amount_in_minor_units": False,
        "currency": "usd",
    }


def seed(*, name: str, sandbox_url: str) -> dict:
    """A workspace connected to its own sandbox account, with a webhook endpoint, a lead form
    whose published workflow charges the lead's saved card, and a published manual workflow of
    three steps (filter, create customer, one-time charge)."""
    secret = f"sk_test_bench{name}0000000000000004242"
    account = {"id": f"acct_bench{name}", "name": f"Bench {name}", "country": "US"}
    SandboxControl(sandbox_url).register_key(
        secret, publishable_key=secret.replace("sk_", "pk_"), account=account
    )
    workspace = Workspace.objects.create(name=f"Bench {name}", slug=f"bench-{name}")
    connection = connection_create_from_key(
        workspace=workspace, secret_key=secret, publishable_key=secret.replace("sk_", "pk_")
    )
    endpoint = webhook_secret_set(connection=connection, secret=WEBHOOK_SECRET)
    credentials = connection_credentials(connection)
    customer = customer_create(
        credentials, name="Bench Lead", email=LEAD_EMAIL, idempotency_key=f"bench:{name}:cus"
    )
    payment_method_attach(
        credentials,
        customer_id=customer.id,
        payment_method="pm_card_visa",
        idempotency_key=f"bench:{name}:pm",
        make_default=True,
    )
    Contact.objects.create(
        workspace=workspace, name="Bench Lead", email=LEAD_EMAIL, stripe_customer_id=customer.id
    )
    with transaction.atomic():
        form = form_save(
            workspace=workspace, name="Lead form", slug=f"{FORM_SLUG}-{name}", fields=LEAD_FIELDS
        )
        lead = wf.workflow_create(workspace=workspace, name="Charge per lead")
        wf.trigger_set(workflow=lead, type="form_submitted", config={"forms": [str(form.uuid)]})
        saved_card = _charge_config(connection, "{{ contact.stripe_customer_id }}")
        _step(lead, "stripe_one_time_charge", "Charge", saved_card)
        # A visitor's form chooses the contact charged: the publish check wants maximums.
        wf.workflow_settings_save(workflow=Workflow.objects.get(pk=lead.pk),
                                  max_amount_per_charge=1000, max_amount_per_day=10_000_000,
                                  safety_currency="usd", allow_reentry=True)  # fmt: skip
        wf.workflow_publish(workflow=Workflow.objects.get(pk=lead.pk))

        three = wf.workflow_create(workspace=workspace, name="Three steps")
        wf.trigger_set(workflow=three, type="manual", config={})
        condition = {"left": "{{ contact.email }}", "operator": "is_not_empty", "right": ""}
        _step(three, "filter", "Only with an e-mail", condition)
        _step(three, "stripe_create_customer", "Create customer", {
            "connection": str(connection.uuid), "name": "{{ contact.name }}",
            "email": "{{ contact.email }}",
        })  # fmt: skip
        # The new customer has no card (the sandbox turns no token into a payment method):
        # the charge goes to the seeded customer's saved card.
        _step(three, "stripe_one_time_charge", "Charge", _charge_config(connection, customer.id))
        wf.workflow_publish(workflow=Workflow.objects.get(pk=three.pk))

        # Bar 1's end-to-end job: payment events, one filter step that passes.
        only = wf.workflow_create(workspace=workspace, name="Filter only")
        wf.trigger_set(workflow=only, type="stripe_payment_event",
                       config={"connection": str(connection.uuid)})  # fmt: skip
        _step(only, "filter", "Succeeded payments", {
            "left": "{{ trigger.type }}", "operator": "equals",
            "right": "payment_intent.succeeded",
        })  # fmt: skip
        wf.workflow_publish(workflow=Workflow.objects.get(pk=only.pk))

        one = wf.workflow_create(workspace=workspace, name="One call")
        wf.trigger_set(workflow=one, type="manual", config={})
        _step(one, "stripe_create_customer", "Create customer", {
            "connection": str(connection.uuid), "name": "{{ contact.name }}",
            "email": "{{ contact.email }}",
        })  # fmt: skip
        wf.workflow_publish(workflow=Workflow.objects.get(pk=one.pk))
    return {
        "workspace": workspace.slug,
        "form_slug": form.slug,
        "endpoint": str(endpoint.uuid),
        "webhook_secret": WEBHOOK_SECRET,
        "secret_key": secret,
        "account": account["id"],
        "customer": customer.id,
        "three_steps": three.pk,
        "one_call": one.pk,
    }


def enqueue(*, workspace: str, workflow: int, batches: dict[str, str], count: int) -> dict:
    """For each tag -> queue of `batches`: `count` runs of the workflow, one new contact each,
    enqueued on that queue when they commit (a worker on that queue drains only them)."""
    from django_q.conf import Conf

    ws = Workspace.objects.get(slug=workspace)
    flow = Workflow.objects.get(pk=workflow, workspace=ws)
    started = 0
    for tag, queue in batches.items():
        Conf.CLUSTER_NAME = queue  # read by async_task when the transaction commits
        started += _batch(ws, flow, tag, count)
    return {"started": started}


def _batch(ws, flow, tag: str, count: int) -> int:
    started = 0
    with transaction.atomic():
        contacts = Contact.objects.bulk_create(
            Contact(workspace=ws, name=f"Lead {tag} {n}", email=f"{tag}-{n}@bench.test")
            for n in range(count)
        )
        for n, contact in enumerate(contacts):
            started += len(runs_start_for_trigger(
                workspace=ws, trigger_type="manual", trigger={"type": "manual"},
                cause=f"{tag}:{n}", contact=contact, only_workflow=flow,
            ))  # fmt: skip
    return started


def purge_queue() -> dict:
    """Drop the tasks still queued (the workers are stopped): the next benchmark starts idle."""
    from django_q.brokers import get_broker

    broker = get_broker()
    size = broker.queue_size()
    broker.purge_queue()
    return {"purged": size}


def events(*, endpoint: str) -> dict:
    """Status counts of the endpoint's stored Stripe events."""
    from django.db.models import Count

    from integrations.models import StripeEvent

    rows = StripeEvent.objects.filter(endpoint__uuid=endpoint).values("status")
    return {row["status"]: row["n"] for row in rows.annotate(n=Count("id"))}


def pages(*, workspace: str) -> dict:
    """The list pages of a workspace (made by `manage.py perf_data`), by name."""
    from django.urls import reverse

    ws = Workspace.objects.get(slug=workspace)
    flow = ws.workflows.order_by("pk").first()
    names = ["contact_list", "workflow_list", "stripe_event_list", "payment_list",
             "invoice_list", "work_item_list"]  # fmt: skip
    urls = {name: reverse(name, kwargs={"ws": ws.slug}) for name in names}
    urls["run_list"] = reverse("run_list", kwargs={"ws": ws.slug, "workflow_uuid": flow.uuid})
    return urls


def step_failures(*, tag: str) -> dict:
    """Steps of the runs caused by `tag` that ended in, or retried after, an error."""
    from automation.models import StepRun

    steps = StepRun.objects.filter(run__cause__startswith=f"{tag}:")
    return {
        "rate_limited": steps.filter(error_code="RATE_LIMITED").count(),
        "retried": steps.filter(attempts__gt=1).count(),
    }


COMMANDS = {"seed": seed, "enqueue": enqueue, "purge_queue": purge_queue, "events": events,
            "pages": pages, "step_failures": step_failures}  # fmt: skip

if __name__ == "__main__":
    result = COMMANDS[sys.argv[1]](**json.loads(sys.argv[2]))
    print(json.dumps(result))
