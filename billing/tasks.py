"""django-q2 entry points: thin, each calls one service."""

from __future__ import annotations

from billing.reconcile import reconcile_all


def reconcile_daily() -> str:
    """The daily reconciliation of every healthy connection (a schedule, see billing.apps)."""
    reports = reconcile_all(days=3, origin="schedule")
    failed = sum(1 for report in reports if report.error)
    return f"{len(reports)} connections reconciled, {failed} failed"
