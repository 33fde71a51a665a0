"""django-q2 entry points: thin, each calls one service."""

from __future__ import annotations

from invoices.abandoned import abandoned_attempts_cancel


def cancel_abandoned_payments() -> str:
    """Every five minutes (a schedule, see invoices.apps)."""
    return f"{abandoned_attempts_cancel()} abandoned invoice payments settled"
