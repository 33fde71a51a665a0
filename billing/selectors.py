"""Reads for the billing pages: saved cards, the ledger with its filters, the daily chart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from automation.models import Appointment
from billing.models import Payment, PaymentLink
from integrations.errors import GatewayError
from integrations.gateway.customers import cards_list
from integrations.selectors import connection_credentials, default_connection
from integrations.services import connection_account_ensure
from portal.money import format_amount


def saved_cards(contact) -> tuple[list, str]:
    """(cards, problem): the contact's saved cards, default first, or why none can be shown."""
    connection = default_connection(contact.workspace)
    if connection is None:
        return [], "Payments are not set up: connect a Stripe account first."
    if not contact.stripe_customer_id:
        return [], "This contact has no Stripe customer yet, so no card on file."
    try:
        credentials = connection_credentials(connection)
        return cards_list(credentials, customer_id=contact.stripe_customer_id), ""
    except GatewayError as error:
        return [], f"Stripe could not list the cards: {error.message}"


def attempt_payment(workspace, contact, attempt) -> Payment | None:
    """The ledger row a staff charge form's token already made for this contact, if any (a
    token of another contact or workspace finds nothing here: the service refuses it)."""
    return workspace.payments.filter(
        contact=contact,
        idempotency_key=f"payment:{attempt}:intent",
        source__in=(Payment.Source.CARD_ON_FILE, Payment.Source.NEW_CARD),
    ).first()


def default_currency(workspace) -> str:
    """The default connection's account currency, as kept on the connection, else USD."""
    connection = default_connection(workspace)
    if connection is None:
        return "USD"
    connection_account_ensure(connection=connection)
    return (connection.default_currency or "usd").upper()


def unpaid_bookings(contact) -> QuerySet[Appointment]:
    return (
        Appointment.objects.filter(
            workspace=contact.workspace,
            contact=contact,
            payment_status=Appointment.PaymentStatus.UNPAID,
        )
        .exclude(status=Appointment.Status.CANCELLED)
        .select_related("calendar")
        .order_by("starts_at")
    )


def payments_filtered(workspace, data: dict) -> QuerySet[Payment]:
    """The ledger, newest first, narrowed by a valid `PaymentFilterForm`'s data."""
    payments = workspace.payments.select_related("contact")
    if data.get("status"):
        payments = payments.filter(status=data["status"])
    if data.get("source"):
        payments = payments.filter(source=data["source"])
    if data.get("since"):
        payments = payments.filter(created_at__date__gte=data["since"])
    if data.get("until"):
        payments = payments.filter(created_at__date__lte=data["until"])
    if query := (data.get("q") or "").strip():
        payments = payments.filter(
            Q(contact__name__icontains=query) | Q(contact__email__icontains=query)
        )
    return payments


def links_filtered(workspace, status: str) -> QuerySet[PaymentLink]:
    links = workspace.payment_links.select_related("contact", "payment")
    now = timezone.now()
    if status == "expired":
        return links.filter(status=PaymentLink.Status.OPEN, expires_at__lte=now)
    if status == PaymentLink.Status.OPEN:
        return links.filter(status=status, expires_at__gt=now)
    return links.filter(status=status) if status else links


def chart_currency(workspace, chosen: str) -> str:
    if chosen:
        return chosen.upper()
    top = workspace.payments.values("currency").annotate(n=Count("id")).order_by("-n").first()
    return top["currency"].upper() if top else "USD"


@dataclass(frozen=True)
class Bar:
    day: date
    collected: int
    failed: int
    x: float
    failed_x: float
    collected_y: float
    collected_h: float
    failed_y: float
    failed_h: float


@dataclass(frozen=True)
class Chart:
    currency: str
    bars: list[Bar]
    total_collected: str
    total_failed: str
    top: str  # the value of the highest grid line, formatted
    iso: bool  # amounts name the ISO code: the workspace has payments in other currencies
    width: int
    height: int
    bar_width: float


def daily_chart(workspace, currency: str, *, days: int = 30) -> Chart:
    """Collected (succeeded) and failed amounts per day for the last `days` days, laid out for
    an inline SVG: two bars a day, scaled to the largest day."""
    today = timezone.localdate()
    first = today - timedelta(days=days - 1)
    rows = (
        workspace.payments.filter(
            currency=currency.lower(),
            # From midnight of the first day (the viewer's zone), not `__date`: a plain range
            # reads the (workspace, status, created_at) index instead of every payment.
            created_at__gte=timezone.make_aware(datetime.combine(first, time.min)),
            status__in=[Payment.Status.SUCCEEDED, Payment.Status.FAILED],
        )
        .annotate(day=TruncDate("created_at"))
        .values("day", "status")
        .annotate(total=Sum("amount"))
    )
    totals: dict[tuple[date, str], int] = {(r["day"], r["status"]): r["total"] for r in rows}
    width, height, pad = 900, 160, 4
    slot = width / days
    bar_width = max(slot / 2 - 1, 1)
    peak = max(totals.values(), default=0) or 1
    bars = []
    for i in range(days):
        day = first + timedelta(days=i)
        collected = totals.get((day, Payment.Status.SUCCEEDED), 0)
        failed = totals.get((day, Payment.Status.FAILED), 0)
        ch = (height - pad) * collected / peak
        fh = (height - pad) * failed / peak
        bars.append(
            Bar(
                day=day,
                collected=collected,
                failed=failed,
                x=round(i * slot, 2),
                failed_x=round(i * slot + bar_width, 2),
                collected_y=round(height - ch, 2),
                collected_h=round(ch, 2),
                failed_y=round(height - fh, 2),
                failed_h=round(fh, 2),
            )
        )
    # A workspace paid in several currencies charts one at a time: its totals name the code.
    iso = workspace.payments.exclude(currency__iexact=currency).exists()
    return Chart(
        currency=currency.upper(),
        bars=bars,
        total_collected=format_amount(sum(b.collected for b in bars), currency, iso=iso),
        total_failed=format_amount(sum(b.failed for b in bars), currency, iso=iso),
        top=format_amount(peak if totals else 0, currency, iso=iso),
        iso=iso,
        width=width,
        height=height,
        bar_width=round(bar_width, 2),
    )


def payment_timeline(payment: Payment) -> list[tuple]:
    """(when, kind, message) of the payment's events and refunds, oldest first."""
    lines = [(e.created_at, e.kind, e.message) for e in payment.events.all()]
    for refund in payment.refunds.all():
        amount = format_amount(refund.amount, payment.currency)
        text = f"Refund of {amount}: {refund.get_status_display()}"
        if refund.reason:
            text += f" ({refund.reason})"
        if refund.failure_message:
            text += f" — {refund.failure_message}"
        lines.append((refund.created_at, "refund requested", text))
    return sorted(lines, key=lambda line: line[0])
