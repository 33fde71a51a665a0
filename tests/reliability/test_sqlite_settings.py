"""SQLite is set up for a web server and a worker writing at once: WAL, a 20 s busy timeout,
and transactions that take the write lock when they begin."""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite only"),
]


def _pragma(name: str):
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA {name}")
        return cursor.fetchone()[0]


def test_the_live_connection_journals_in_wal_mode():
    assert _pragma("journal_mode") == "wal"
    assert _pragma("synchronous") == 1  # NORMAL: safe with WAL, one fsync per checkpoint


def test_a_writer_waits_20_seconds_for_the_lock_instead_of_failing_at_once():
    assert connection.settings_dict["OPTIONS"]["timeout"] == 20
    assert _pragma("busy_timeout") == 20_000


def test_transactions_begin_immediate():
    # A deferred transaction that reads, then writes, cannot wait for the lock: it fails with
    # "database is locked" at once. IMMEDIATE takes the lock at BEGIN, where the timeout applies.
    assert connection.settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    connection.ensure_connection()
    assert connection.transaction_mode == "IMMEDIATE"
