"""Helpers shared by the reliability properties: a per-example sandbox, webhook delivery.

A hypothesis test runs many examples inside one pytest test, so function-scoped fixtures
are set up once: every example starts from a reset sandbox (same account and key) and runs
inside a savepoint that is rolled back at its end, so each one sees the same database.
"""

from __future__ import annotations

import contextlib
import json
import time

from django.db import transaction
from stripe_sandbox.webhooks import sign

from integrations.events import event_process, event_receive
from integrations.models import StripeEvent, WebhookEndpoint
from tests.invoices import conftest as invoice_fixtures

HOOK_SECRET = "whsec_reliability_0123456789"
INTENTS = "/v1/payment_intents"


class Rollback(Exception):
    """Raised to leave `example_savepoint` after a successful example."""


@contextlib.contextmanager
def example_savepoint():
    """Run one example in a savepoint that is always rolled back."""
    try:
        with transaction.atomic():
            yield
            raise Rollback
    except Rollback:
        pass


def sandbox_reset(sandbox, connection) -> None:
    """Empty the sandbox and register the connection's key for the same account again."""
    sandbox.control.reset()
    sandbox.control.register_key(
        connection.secret_key,
        publishable_key=connection.publishable_key,
        account={"id": connection.account_id, "name": "Acme Dental", "country": "US"},
    )


def webhook_endpoint(connection) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(connection=connection, secret=HOOK_SECRET)


def deliver(endpoint: WebhookEndpoint, event: dict) -> None:
    """One webhook delivery through the real intake, then processing as the worker does it."""
    body = json.dumps(event).encode()
    event_receive(
        endpoint=endpoint, payload=body, signature=sign(body, HOOK_SECRET, int(time.time()))
    )
    stored = StripeEvent.objects.get(endpoint=endpoint, event_id=event["id"])
    if stored.status in (StripeEvent.Status.RECEIVED, StripeEvent.Status.FAILED):
        event_process(event_pk=stored.pk)


def sandbox_events(client) -> list[dict]:
    """The account's events as the sandbox produced them, oldest first."""
    events = client.v1.events.list(params={"limit": 100}).data
    return [e.to_dict() for e in reversed(events)]


def deliver_all(endpoint: WebhookEndpoint, client) -> None:
    """Every event the sandbox made so far, delivered (again: duplicates are dropped)."""
    for event in sandbox_events(client):
        deliver(endpoint, event)


def intents(client) -> list:
    return list(client.v1.payment_intents.list(params={"limit": 100}).data)


# The invoice fixtures (process, invoice, work_item) of tests/invoices, for the pay form.
process = invoice_fixtures.process
invoice = invoice_fixtures.invoice
work_item = invoice_fixtures.work_item
