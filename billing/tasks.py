"""django-q2 entry points: thin, each calls one service."""

from __future__ import annotations

from billing.reconcile import reconcile_all
from billing.services.links import payment_links_expire


def reconcile_daily() -> str:
    """The daily reconciliation of every healthy connection (a schedule, see billing.apps)."""
    reports = reconcile_all(days=3, origin="schedule")
    failed = sum(1 for report in reports if report.error)
    return f"{len(reports)} connections reconciled, {failed} failed"


def close_expired_links() -> str:
    """Cancel the PaymentIntents of expired payment links (a schedule, see billing.apps)."""
    return f"{payment_links_expire()} expired payment links closed"
