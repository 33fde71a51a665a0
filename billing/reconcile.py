"""Reconciliation: bring the ledger in step with Stripe when webhooks went missing.

Daily (django-q2 schedule), by `manage.py reconcile` and by the owner's "Run now", for each
healthy connection: take in the events that never arrived, then compare the account's recent
PaymentIntents with the ledger. What Stripe settled is applied through
`payment_apply_intent` (so success effects still happen once) and refunds made in Stripe's
dashboard raise the ledger's refunded amount; what cannot be settled from Stripe's data (an
intent the ledger does not know, a pending row whose intent Stripe does not know, an intent
that names a row without matching it) is reported as a difference, never invented. Expired
payment links' intents are canceled in Stripe on the way. Each pass is stored as a
`ReconciliationRun`.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from billing.models import Payment, ReconciliationRun
from billing.services.ledger import (
    FINAL,
    intent_mismatch,
    payment_apply_intent,
    payment_apply_refunded,
)
from billing.services.links import payment_links_expire
from integrations.events import events_fetch_missed
from integrations.gateway.errors import NOT_FOUND, GatewayError
from integrations.gateway.payments import (
    ListedPaymentIntent,
    PaymentIntent,
    payment_intent_retrieve,
    payment_intents_recent,
)
from integrations.models import StripeConnection
from integrations.selectors import connection_credentials
from portal.money import format_amount

logger = logging.getLogger(__name__)

VIA = "reconciliation"
# A pending row younger than this may still be on its way to Stripe: not a difference yet.
PENDING_GRACE = timedelta(hours=1)
MAX_INTENTS = 1000
HEALTHY = [StripeConnection.Health.OK, StripeConnection.Health.UNKNOWN]


@dataclass
class ReconcileReport:
    """What one pass over one connection found and did (also stored as `run`)."""

    connection: StripeConnection
    since: datetime
    run: ReconciliationRun | None = None
    events_taken_in: int = 0
    intents_checked: int = 0
    payments_updated: int = 0
    refunds_recorded: int = 0
    differences: list[dict] = field(default_factory=list)
    error: str = ""

    @property
    def open_differences(self) -> list[dict]:
        return [d for d in self.differences if not d["repaired"]]

    def summary(self) -> str:
        if self.error:
            return f"failed: {self.error}"
        return (
            f"{self.events_taken_in} missed events taken in, "
            f"{self.intents_checked} PaymentIntents checked, "
            f"{self.payments_updated} payments updated, {self.refunds_recorded} refunds recorded, "
            f"{len(self.open_differences)} differences to look at"
        )


def reconcile_all(*, days: int = 3, origin: str = "schedule") -> list[ReconcileReport]:
    """Reconcile every healthy connection over the last `days`; one connection's error is
    in its report, never raised."""
    since = timezone.now() - timedelta(days=days)
    connections = StripeConnection.objects.filter(health__in=HEALTHY).select_related("workspace")
    return [_guarded(c, since, origin) for c in connections.order_by("workspace_id", "pk")]


def reconcile_workspace(*, workspace, days: int = 3, origin: str = "") -> list[ReconcileReport]:
    """The same, for one workspace's healthy connections (the page's "Run now")."""
    since = timezone.now() - timedelta(days=days)
    connections = workspace.stripe_connections.filter(health__in=HEALTHY).order_by("pk")
    return [_guarded(c, since, origin) for c in connections]


def _guarded(connection: StripeConnection, since: datetime, origin: str) -> ReconcileReport:
    try:
        return reconcile_connection(connection=connection, since=since, origin=origin)
    except Exception as exc:  # e.g. the run row could not be stored: report, go on
        logger.exception("reconciling connection %s failed", connection.pk)
        return ReconcileReport(connection=connection, since=since, error=_describe(exc))


def reconcile_connection(
    *, connection: StripeConnection, since: datetime, origin: str = ""
) -> ReconcileReport:
    """Compare the ledger with the connection's PaymentIntents created since `since`,
    repair what Stripe's data settles, store and return the report. Errors (Stripe
    unreachable, key revoked) end the pass and are recorded in the report; repairs made
    before stay, each in its own transaction."""
    run = ReconciliationRun.objects.create(
        workspace_id=connection.workspace_id, connection=connection, since=since, origin=origin
    )
    report = ReconcileReport(connection=connection, since=since, run=run)
    try:
        endpoint = connection.webhook_endpoints.filter(trigger_key="").first()
        if endpoint is not None:
            report.events_taken_in = events_fetch_missed(endpoint=endpoint)
        _close_expired_links(report)
        seen = _compare_intents(report)
        _check_stale_pending(report, seen)
    except GatewayError as error:
        report.error = f"{error.code}: {error.message}"
    except Exception as exc:
        logger.exception("reconciling connection %s failed", connection.pk)
        report.error = _describe(exc)
    for name in ("events_taken_in", "intents_checked", "payments_updated", "refunds_recorded"):
        setattr(run, name, getattr(report, name))
    run.differences, run.error, run.finished_at = report.differences, report.error, timezone.now()
    run.save()
    return report


def _close_expired_links(report: ReconcileReport) -> None:
    """Expired links whose page could still confirm their intent: canceled in Stripe (a
    link paid meanwhile is recorded Paid). Before the comparison, so it sees the result."""
    closed = payment_links_expire(connection=report.connection)
    if closed:
        _differ(
            report,
            "links_expired",
            f"{closed} expired payment link{'s' if closed > 1 else ''}: the PaymentIntent "
            "was canceled in Stripe, or recorded if it had been paid.",
            repaired=True,
        )


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


def _compare_intents(report: ReconcileReport) -> set[int]:
    """Walk the recent PaymentIntents; the pks of the ledger rows they matched."""
    connection = report.connection
    listed = payment_intents_recent(
        connection_credentials(connection),
        created_gte=int(report.since.timestamp()),
        limit=MAX_INTENTS,
    )
    if len(listed) >= MAX_INTENTS:
        _differ(report, "truncated", f"Only the newest {MAX_INTENTS} PaymentIntents were compared.")
    rows = Payment.objects.filter(workspace_id=connection.workspace_id)
    ids = [item.intent.id for item in listed]
    by_intent = {
        p.stripe_payment_intent_id: p for p in rows.filter(stripe_payment_intent_id__in=ids)
    }
    named = [row for item in listed if (row := _portal_uuid(item))]
    by_uuid = {str(p.uuid): p for p in rows.filter(uuid__in=named)}
    seen: set[int] = set()
    for item in listed:
        report.intents_checked += 1
        intent = item.intent
        payment = by_intent.get(intent.id) or by_uuid.get(_portal_uuid(item))
        if payment is None:
            _unknown_intent(report, item)
            continue
        if _apply(report, payment, intent):
            seen.add(payment.pk)
            _refunds(report, payment, item)
    return seen


def _portal_uuid(item: ListedPaymentIntent) -> str:
    """The ledger row its `metadata.portal_payment` names, if a valid uuid (anyone can write
    metadata in Stripe's dashboard); "" otherwise."""
    try:
        return str(uuid.UUID(item.metadata.get("portal_payment", "")))
    except ValueError:
        return ""


def _apply(report: ReconcileReport, payment: Payment, intent: PaymentIntent) -> bool:
    """Apply the intent through the ledger's one door; False when it is not the row's (the
    ledger records that and tells the owners; the report shows it)."""
    connection = report.connection
    reasons = intent_mismatch(payment=payment, intent=intent, connection=connection)
    if reasons:
        payment_apply_intent(payment=payment, intent=intent, via=VIA, connection=connection)
        _differ(
            report,
            "mismatch",
            f"This PaymentIntent names the payment but does not match it ({reasons}): not applied.",
            intent=intent,
            payment=payment,
        )
        return False
    before_status, before_intent = payment.status, payment.stripe_payment_intent_id
    before_label = payment.get_status_display()
    settled = payment.status in FINAL and before_intent == intent.id
    if not settled:  # a no-op when Stripe agrees
        payment = payment_apply_intent(
            payment=payment, intent=intent, via=VIA, connection=connection
        )
    if payment.status != before_status:
        matched = " (matched by its metadata)" if not before_intent else ""
        _differ(
            report,
            "status",
            f"The ledger said {before_label}, Stripe {intent.status}: now "
            f"{payment.get_status_display()}{matched}.",
            intent=intent,
            payment=payment,
            repaired=True,
        )
        report.payments_updated += 1
    elif payment.stripe_payment_intent_id != before_intent:
        _differ(
            report,
            "linked",
            "The PaymentIntent was matched by its metadata and recorded.",
            intent=intent,
            payment=payment,
            repaired=True,
        )
        report.payments_updated += 1
    elif payment.status in FINAL and intent.status != payment.status:
        _differ(
            report,
            "status_conflict",
            f"The ledger says {payment.get_status_display()}, Stripe says {intent.status}.",
            intent=intent,
            payment=payment,
        )
    return True


def _refunds(report: ReconcileReport, payment: Payment, item: ListedPaymentIntent) -> None:
    """Raise the ledger's refunded amount to Stripe's; never lower it (a difference)."""
    added = payment_apply_refunded(
        payment=payment,
        intent=item.intent,
        amount_refunded=item.amount_refunded,
        via=VIA,
        connection=report.connection,
    )
    if added:
        report.refunds_recorded += 1
        _differ(
            report,
            "refund",
            f"{format_amount(added, payment.currency)} refunded in Stripe was missing from the "
            "ledger.",
            intent=item.intent,
            payment=payment,
            repaired=True,
        )
    elif item.amount_refunded < payment.amount_refunded:
        ours = format_amount(payment.amount_refunded, payment.currency)
        theirs = format_amount(item.amount_refunded, payment.currency)
        _differ(
            report,
            "refund_mismatch",
            f"The ledger has {ours} refunded, Stripe {theirs}.",
            intent=item.intent,
            payment=payment,
        )


def _unknown_intent(report: ReconcileReport, item: ListedPaymentIntent) -> None:
    run = item.metadata.get("portal_run")
    origin = f" It was made by a workflow step (run {run})." if run else ""
    _differ(
        report,
        "unknown_intent",
        f"A PaymentIntent in Stripe ({item.intent.status}) with no payment in the ledger.{origin}",
        intent=item.intent,
    )


def _check_stale_pending(report: ReconcileReport, seen: set[int]) -> None:
    """Ledger rows still pending after the grace period that no listed intent matched:
    ask Stripe for their intent; one it does not know is a difference."""
    connection = report.connection
    stale = (
        Payment.objects.filter(
            workspace_id=connection.workspace_id,
            connection=connection,
            status__in=[Payment.Status.PENDING, Payment.Status.PROCESSING],
            created_at__gte=report.since,
            created_at__lt=timezone.now() - PENDING_GRACE,
        )
        .exclude(pk__in=seen)
        .order_by("created_at")
    )
    for payment in stale:
        if not payment.stripe_payment_intent_id:
            _differ(
                report,
                "intent_missing",
                "Pending for over an hour, and Stripe has no PaymentIntent for it.",
                payment=payment,
            )
            continue
        try:
            intent = payment_intent_retrieve(
                connection_credentials(connection),
                payment_intent_id=payment.stripe_payment_intent_id,
            )
        except GatewayError as error:
            if error.code != NOT_FOUND:
                raise
            _differ(
                report,
                "intent_missing",
                f"Pending for over an hour; Stripe does not know its PaymentIntent "
                f"{payment.stripe_payment_intent_id}.",
                payment=payment,
            )
            continue
        report.intents_checked += 1
        _apply(report, payment, intent)


def _differ(
    report: ReconcileReport,
    kind: str,
    message: str,
    *,
    intent: PaymentIntent | None = None,
    payment: Payment | None = None,
    repaired: bool = False,
) -> None:
    """Add a line to the report, JSON-safe (the run stores it as is)."""
    line = {
        "kind": kind,
        "message": message,
        "repaired": repaired,
        "payment_intent": "",
        "payment": "",
        "amount": None,
        "currency": "",
    }
    if intent is not None:
        line.update(payment_intent=intent.id, amount=intent.amount, currency=intent.currency)
    if payment is not None:
        line.update(payment=str(payment.uuid), amount=payment.amount, currency=payment.currency)
        line["payment_intent"] = line["payment_intent"] or payment.stripe_payment_intent_id
    report.differences.append(line)
