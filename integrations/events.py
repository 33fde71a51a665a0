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

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django_q.conf import Conf
from django_q.tasks import async_task

from integrations.gateway.webhooks import SignatureError, event_verify, events_since
from integrations.hooks import stripe_event
from integrations.models import EventDrainRequest, StripeConnection, StripeEvent, WebhookEndpoint
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
            StripeEvent.objects.create(
                endpoint=endpoint,
                event_id=event["id"],
                type=str(event.get("type") or ""),
                api_version=str(event.get("api_version") or ""),
                livemode=bool(event.get("livemode")),
                created=dt.datetime.fromtimestamp(int(event.get("created") or 0), tz=dt.UTC),
                payload=event,
                source=source,
            )
            _request_drain()
    except IntegrityError:
        # A redelivery of an event whose processing failed is the cue to process it again.
        with transaction.atomic():
            if StripeEvent.objects.filter(
                endpoint=endpoint, event_id=event["id"], status=StripeEvent.Status.FAILED
            ).update(status=StripeEvent.Status.RECEIVED):
                _request_drain()
        return False
    return True


_REQUEST_DRAIN = (  # the table of EventDrainRequest (its Meta.db_table)
    'INSERT INTO "integrations_eventdrainrequest" (id, requested_at) VALUES (1, %s)'
    " ON CONFLICT DO NOTHING"
)


def _request_drain() -> None:
    """Make sure a task processes the waiting events once the caller's transaction commits.

    One row marks a drain task queued and not started yet (`EventDrainRequest`): inserting it
    (a no-op when it is there) tells whether to enqueue one, so a burst of events costs one
    task. With the ORM broker the queue is a table of this database and the task is written
    in the caller's transaction: event, mark and task commit together. Another broker gets
    the task once they commit; if that push is lost, `events_resume_lost` repairs it.
    """
    with transaction.get_connection().cursor() as cursor:
        # (Django's ORM cannot say ON CONFLICT DO NOTHING and tell whether it inserted.)
        cursor.execute(_REQUEST_DRAIN, [timezone.now()])
        if cursor.rowcount != 1:
            return  # a queued task will find these events
    if Conf.ORM and not Conf.SYNC and transaction.get_connection(Conf.ORM).in_atomic_block:
        _enqueue_drain()
    else:
        transaction.on_commit(_enqueue_drain)


def _enqueue_drain() -> None:
    async_task("integrations.tasks.drain_events", group="stripe-events")


# How long one task drains before it hands over to a new one (the worker's timeout, Q_TIMEOUT,
# is far above).
DRAIN_FOR = timedelta(seconds=30)


def events_drain() -> int:
    """Process every waiting (received) event, oldest first, STRIPE_EVENT_BATCH per
    transaction; returns how many. The drain request is withdrawn first, so an event taken in
    from then on asks for a task of its own and none is left waiting. Several drains may run
    at once (one per worker): on PostgreSQL each claims rows the others have not locked
    (SKIP LOCKED); SQLite runs one write transaction at a time anyway."""
    EventDrainRequest.objects.filter(pk=1).delete()
    until, done = timezone.now() + DRAIN_FOR, 0
    while True:
        claimed = _process_batch(settings.STRIPE_EVENT_BATCH)
        done += claimed
        if claimed < settings.STRIPE_EVENT_BATCH:
            return done
        if timezone.now() > until:  # more waiting: a fresh task carries on
            with transaction.atomic():
                _request_drain()
            return done


def _process_batch(size: int) -> int:
    with transaction.atomic():
        events = list(
            StripeEvent.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=StripeEvent.Status.RECEIVED)
            .select_related("endpoint__connection__workspace")
            .order_by("received_at", "pk")[:size]
        )
        _process(events)
    return len(events)


def _process(events: list[StripeEvent]) -> None:
    """Hand each event to every receiver of `stripe_event`, each in a savepoint of the
    caller's transaction, which also records the outcome: a crash leaves them all waiting and
    nothing half-done; a receiver that fails fails its own event only."""
    now, processed = timezone.now(), []
    for event in events:
        try:
            with transaction.atomic():
                stripe_event.send(event)
        except Exception as exc:  # a receiver failed: keep the event for a redelivery or replay
            logger.exception("processing stripe event %s failed", event.event_id)
            StripeEvent.objects.filter(pk=event.pk).update(
                status=StripeEvent.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000],
                claimed_at=now, attempts=F("attempts") + 1,
            )  # fmt: skip
        else:
            processed.append(event.pk)
    StripeEvent.objects.filter(pk__in=processed).update(
        status=StripeEvent.Status.PROCESSED, processed_at=timezone.now(), error="",
        claimed_at=now, attempts=F("attempts") + 1,
    )  # fmt: skip


def event_process(*, event_pk: int) -> None:
    """Process one event now if it is waiting or failed (a task queued before the drains, and
    the tests); exactly once, as a drain would."""
    with transaction.atomic():
        events = list(
            StripeEvent.objects.select_for_update(of=("self",))
            .filter(pk=event_pk)
            .filter(
                Q(status__in=[StripeEvent.Status.RECEIVED, StripeEvent.Status.FAILED])
                | Q(
                    status=StripeEvent.Status.PROCESSING,
                    claimed_at__lt=timezone.now() - STALE_CLAIM,
                )
            )
            .select_related("endpoint__connection__workspace")
        )
        _process(events)


# An event still waiting this long after it came has most likely lost its task.
LOST_AFTER = timedelta(minutes=2)


def events_resume_lost() -> int:
    """Enqueue one drain if events have waited longer than LOST_AFTER (a Redis broker keeps
    no copy of a task it dropped, and its push after the commit can fail; a drain request
    left behind would then keep every later delivery from asking for one); returns how many
    events wait. Scheduled every minute: at most one drain a minute more than needed, which
    finds nothing or shares the work (drains never take the same event)."""
    waiting = StripeEvent.objects.filter(
        status=StripeEvent.Status.RECEIVED, received_at__lt=timezone.now() - LOST_AFTER
    ).count()
    if waiting:
        logger.warning("%s stripe events waited more than %s: draining", waiting, LOST_AFTER)
        EventDrainRequest.objects.filter(pk=1).delete()
        _enqueue_drain()
    return waiting


def event_replay(*, event: StripeEvent) -> None:
    """Process a failed event again (the events page's replay button)."""
    if event.status != StripeEvent.Status.FAILED:
        raise ValueError("Only a failed event can be replayed.")
    with transaction.atomic():
        if StripeEvent.objects.filter(pk=event.pk, status=StripeEvent.Status.FAILED).update(
            status=StripeEvent.Status.RECEIVED
        ):
            _request_drain()


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
