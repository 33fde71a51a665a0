"""Reads for the billing pages: saved cards, the ledger with its filters, the daily chart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.cache import cache
from django.db.models import Case, Count, Max, Q, QuerySet, Sum, Value, When
from django.utils import timezone
from django.utils.formats import date_format

from automation.models import Appointment
from billing.models import Payment, PaymentLink
from integrations.errors import GatewayError
from integrations.gateway.customers import cards_list
from integrations.selectors import connection_credentials, default_connection
from integrations.services import connection_account_ensure
from portal.money import active_locale, format_amount


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


@dataclass(frozen=True)
class Paid:
    """How many payments the workspace has in each currency (lower case), most first, and
    when any of them last changed (None: no payment)."""

    counts: dict[str, int]
    changed: datetime | None


def currencies_paid(workspace) -> Paid:
    """One grouped read of the (workspace, currency, updated_at) index."""
    rows = (
        workspace.payments.order_by()
        .values_list("currency")
        .annotate(n=Count("id"), changed=Max("updated_at"))
    )
    counts: dict[str, int] = {}
    for code, n, _ in sorted(rows, key=lambda row: -row[1]):
        counts[code.lower()] = counts.get(code.lower(), 0) + n
    return Paid(counts, max((row[2] for row in rows), default=None))


def chart_currency(chosen: str, paid: Paid) -> str:
    """The chosen currency, else the one most payments were made in, else USD."""
    if chosen:
        return chosen.upper()
    return next(iter(paid.counts), "usd").upper()


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
    title: str  # "Nov 4: collected $5.00, failed $0.00"
    label: str  # the day under the axis, every 7th bar ("" for the others)


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


def daily_chart(workspace, currency: str, paid: Paid, *, days: int = 30) -> Chart:
    """Collected (succeeded) and failed amounts per day for the last `days` days, laid out for
    an inline SVG: two bars a day, scaled to the largest day. `paid` is `currencies_paid`'s
    answer: with another currency in it, amounts name their ISO code.

    Kept in the cache under the ledger's state (how many payments, the last change), the day,
    the viewer's zone and the locale: any payment saved gives a new key."""
    first = timezone.localdate() - timedelta(days=days - 1)
    changed = paid.changed.isoformat() if paid.changed else "-"
    key = f"billing:chart:{workspace.pk}:{currency.lower()}:{first}:{days}:{active_locale()}"
    key += f":{timezone.get_current_timezone_name()}:{sum(paid.counts.values())}:{changed}"
    if (chart := cache.get(key)) is None:
        totals = _daily_totals(workspace, currency.lower(), first, days)
        # A workspace paid in several currencies charts one at a time: its totals name the code.
        iso = any(code != currency.lower() for code in paid.counts)
        chart = _chart(totals, currency, first, days, iso)
        cache.set(key, chart, 600)
    return chart


def _chart(totals: dict, currency: str, first: date, days: int, iso: bool) -> Chart:
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
        name = date_format(day, "M j")
        title = (f"{name}: collected {format_amount(collected, currency, iso=iso)}, "
                 f"failed {format_amount(failed, currency, iso=iso)}")  # fmt: skip
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
                title=title,
                label=name if i == 0 or (i + 1) % 7 == 0 else "",
            )
        )
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


def _daily_totals(workspace, currency: str, first: date, days: int) -> dict:
    """{(day, status): amount} of succeeded and failed payments from `first` (the viewer's
    zone)."""
    # Each payment's day by comparing it with the days' starts (midnight in the viewer's zone),
    # not by casting it to a date: SQLite casts with a Python function called per row.
    starts = [timezone.make_aware(datetime.combine(first + timedelta(days=i), time.min))
              for i in range(days)]  # fmt: skip
    day_of = Case(
        *[When(created_at__lt=start, then=Value(i)) for i, start in enumerate(starts[1:])],
        default=Value(days - 1),
    )
    rows = (
        workspace.payments.filter(
            currency=currency,
            # A plain range reads the (workspace, status, created_at) index.
            created_at__gte=starts[0],
            status__in=[Payment.Status.SUCCEEDED, Payment.Status.FAILED],
        )
        .order_by()
        .values_list(day_of, "status")
        .annotate(total=Sum("amount"))
    )
    return {(first + timedelta(days=i), status): total for i, status, total in rows}


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
