"""Stripe events: taken in once per endpoint, processed once on the worker.

Intake (the webhook views) verifies and stores, then answers; `event_process` runs later on a
django-q2 worker and hands the event to the apps above through the `stripe_event` hook
(integrations/hooks.py), whose stages run in a stated order. Events of accounts connected
through Connect OAuth come to the platform's one endpoint (`connect_event_receive`) and are
stored under each such connection's own endpoint row, exactly like a delivery to it.
"""

from __future__ import annotations

import datetime as dt
import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.tasks import async_task

from integrations.gateway.webhooks import SignatureError, event_verify, events_since
from integrations.hooks import stripe_event
from integrations.models import StripeConnection, StripeEvent, WebhookEndpoint
from integrations.selectors import connection_credentials

logger = logging.getLogger(__name__)

# A claim older than this is taken to belong to a worker that died mid-way.
STALE_CLAIM = timedelta(minutes=10)


class EventRejected(Exception):
    """The delivery is refused (answered 400) and nothing is stored."""


def event_receive(*, endpoint: WebhookEndpoint, payload: bytes, signature: str) -> bool:
    """Verify and store one delivery; True if it was new. Processing is enqueued on commit.

    A duplicate of an event already stored is dropped, unless its processing failed: then
    the redelivery is the cue to process it again.
    """
    event = _verified(payload, signature, [endpoint.secret, endpoint.previous_secret])
    expected_live = endpoint.connection.mode == "live"
    if bool(event.get("livemode")) != expected_live:
        raise EventRejected("the event's mode does not match the connection's mode")
    return _store(endpoint, event, source="webhook")


def connect_event_receive(*, payload: bytes, signature: str, secrets: list[str]) -> int:
    """Verify a delivery to the platform's Connect endpoint and store it for every connection
    made through Connect OAuth with the event's `account`, in the event's mode; returns how
    many of them had not stored it yet (processing of each is enqueued on commit).

    Several workspaces may have connected the same account: each gets the event, as each
    would through an endpoint of its own (its ledger and workflows are its own; dropping the
    event for all of them would leave their payments unsettled). An account no workspace
    connected is answered like the rest (Stripe would retry it for days) with nothing stored.
    Stripe also sends the test events of an account connected in live mode to a live Connect
    endpoint: with no connection in that mode they are ignored the same way; a live event for
    an account connected only in test mode is refused, as on a connection's own endpoint.
    """
    event = _verified(payload, signature, secrets)
    account = event.get("account")
    if not isinstance(account, str) or not account.startswith("acct_"):
        raise EventRejected("the event names no connected account")
    connections = list(
        StripeConnection.objects.filter(
            account_id=account, connected_via=StripeConnection.Via.OAUTH
        ).order_by("pk")
    )
    mode = StripeConnection.Mode.LIVE if event.get("livemode") else StripeConnection.Mode.TEST
    matching = [c for c in connections if c.mode == mode]
    if not matching:
        if connections and mode == StripeConnection.Mode.LIVE:
            raise EventRejected("the event's mode does not match the connection's mode")
        logger.warning(
            "connect event %s (%s) for %s ignored: no %s connection of that account",
            event["id"],
            event.get("type"),
            account,
            mode,
        )
        return 0
    new = 0
    for connection in matching:
        endpoint = WebhookEndpoint.objects.get_or_create(connection=connection, trigger_key="")[0]
        new += _store(endpoint, event, source="connect")
    return new


def _verified(payload: bytes, signature: str, secrets: list[str]) -> dict:
    try:
        return event_verify(payload=payload, header=signature, secrets=secrets)
    except SignatureError as exc:
        raise EventRejected(f"signature verification failed: {exc}") from None


def _store(endpoint: WebhookEndpoint, event: dict, *, source: str) -> bool:
    try:
        with transaction.atomic():
            stored = StripeEvent.objects.create(
                endpoint=endpoint,
                event_id=event["id"],
                type=str(event.get("type") or ""),
                api_version=str(event.get("api_version") or ""),
                livemode=bool(event.get("livemode")),
                created=dt.datetime.fromtimestamp(int(event.get("created") or 0), tz=dt.UTC),
                payload=event,
                source=source,
            )
            _enqueue(stored.pk)
    except IntegrityError:
        existing = StripeEvent.objects.filter(endpoint=endpoint, event_id=event["id"]).first()
        if existing is not None and existing.status == StripeEvent.Status.FAILED:
            _enqueue(existing.pk)
        return False
    return True


def _enqueue(event_pk: int) -> None:
    """Processing on a worker. With the ORM broker the queue is a table of this database: its
    row is written in the caller's transaction (the event and its task commit together, one
    write transaction instead of two). Another broker gets the task once the event commits;
    an event whose task was lost is enqueued again by `events_resume_lost`."""

    def enqueue() -> None:
        async_task("integrations.tasks.process_event", event_pk, group="stripe-events")

    if Conf.ORM and not Conf.SYNC and transaction.get_connection(Conf.ORM).in_atomic_block:
        enqueue()
    else:
        transaction.on_commit(enqueue)


def event_process(*, event_pk: int) -> None:
    """Hand the event to every receiver of `stripe_event`, exactly once.

    The claim, the receivers' writes (the runs the event starts, and those executed at once)
    and the `processed` mark commit together in one transaction: a crash leaves the event
    claimable again and nothing half-done; a second worker given the same event waits for
    the first one's row lock and then finds it processed.
    """
    now = timezone.now()
    claimable = Q(status__in=[StripeEvent.Status.RECEIVED, StripeEvent.Status.FAILED]) | Q(
        status=StripeEvent.Status.PROCESSING, claimed_at__lt=now - STALE_CLAIM
    )
    event = None
    try:
        with transaction.atomic():
            claimed = StripeEvent.objects.filter(claimable, pk=event_pk).update(
                status=StripeEvent.Status.PROCESSING, claimed_at=now, attempts=F("attempts") + 1
            )
            if not claimed:
                return
            event = StripeEvent.objects.select_related("endpoint__connection__workspace").get(
                pk=event_pk
            )
            stripe_event.send(event)
            StripeEvent.objects.filter(pk=event_pk).update(
                status=StripeEvent.Status.PROCESSED, processed_at=timezone.now(), error=""
            )
    except Exception as exc:  # a receiver failed: keep the event for a redelivery or replay
        logger.exception("processing stripe event %s failed", event.event_id if event else event_pk)
        # (Never over a mark another worker committed meanwhile: a replay would repeat it.)
        StripeEvent.objects.filter(pk=event_pk).exclude(status=StripeEvent.Status.PROCESSED).update(
            status=StripeEvent.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000],
            claimed_at=now, attempts=F("attempts") + 1,
        )  # fmt: skip


# An event taken in but not processed this long after, with nothing queued, lost its task.
LOST_AFTER = timedelta(minutes=2)


def events_resume_lost() -> int:
    """Enqueue again the events whose processing task was lost (a Redis broker keeps no copy
    of a task it dropped, and its push after the commit can fail); returns how many.

    Scheduled every minute. Only while the queue is empty, so a backlog is never doubled;
    safe at any time, since processing claims the event (a second task finds it done).
    """
    if get_broker().queue_size():
        return 0
    lost = StripeEvent.objects.filter(
        status=StripeEvent.Status.RECEIVED, received_at__lt=timezone.now() - LOST_AFTER
    ).values_list("pk", flat=True)
    count = 0
    for event_pk in lost[:1000]:
        logger.warning("stripe event %s lost its task: enqueued again", event_pk)
        async_task("integrations.tasks.process_event", event_pk, group="stripe-events")
        count += 1
    return count


def event_replay(*, event: StripeEvent) -> None:
    """Process a failed event again (the events page's replay button)."""
    if event.status != StripeEvent.Status.FAILED:
        raise ValueError("Only a failed event can be replayed.")
    _enqueue(event.pk)


def events_fetch_missed(*, endpoint: WebhookEndpoint) -> int:
    """Take in the account's events since the last one received that never arrived.

    Returns how many were new. Events are stored as if delivered (source "fetch").
    """
    last = endpoint.events.order_by("-created").first()
    since = (
        int(last.created.timestamp())
        if last
        else int((timezone.now() - timedelta(days=30)).timestamp())
    )
    new = 0
    for event in events_since(connection_credentials(endpoint.connection), created_gte=since):
        if event.get("livemode") == (endpoint.connection.mode == "live"):
            new += _store(endpoint, event, source="fetch")
    return new
