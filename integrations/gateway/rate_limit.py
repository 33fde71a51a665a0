"""Stripe's rate limits, kept on our side: one token bucket per Stripe account and mode.

Every request to Stripe first reserves its turn in the bucket of the account it counts against
(``throttle``), sleeps until then and goes. The bucket is GCRA, a token bucket stored as one
number, the "theoretical arrival time" of the next request at the sustained pace: a reservation
is one atomic read-modify-write, so the hot path is one round trip. It is shared by every web
and worker process: in Redis when ``REDIS_URL`` is set (a Lua script, timed by Redis's clock,
so any number of machines agree), else in an SQLite file of its own (``STRIPE_RATE_FILE``, one
machine; never the portal's database, so a reservation is never part of a caller's
transaction).

The budget (settings ``STRIPE_RATE_*``): in any one second at most ``rate`` requests, of which
``burst`` may go back to back; so the bucket holds ``burst`` tokens and refills at just under
``rate - burst + 1`` per second. A turn further away than ``STRIPE_RATE_MAX_WAIT`` is not
reserved: the call fails ``RATE_LIMITED`` at once, and a workflow step retries it later.
If the store cannot be reached the request goes without waiting (logged): Stripe's own limit
and the retries still apply, and the portal keeps working.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from pathlib import Path

from django.conf import settings

from integrations.gateway.errors import RATE_LIMITED, GatewayError

logger = logging.getLogger(__name__)

REDIS_PREFIX = "portal:stripe-rate:"

# KEYS[1] the bucket; ARGV interval, tolerance, max wait (seconds). Returns {1, wait} or {0, wait}.
_GCRA_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local interval, tolerance, max_wait = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now or tat > now + tolerance + max_wait + interval then tat = now end
local wait = math.max(0, tat - tolerance - now)
if wait > max_wait then return {0, string.format('%.6f', wait)} end
local ttl = math.ceil((tat + interval - now) * 1000) + 60000  -- a minute after its turn
redis.call('SET', KEYS[1], string.format('%.6f', tat + interval), 'PX', ttl)
return {1, string.format('%.6f', wait)}
"""


def reserve_turn(
    tat: float | None, now: float, interval: float, tolerance: float, max_wait: float
) -> tuple[float, float] | None:
    """GCRA (the Lua script above does the same): the new theoretical arrival time and the wait
    before this request may go, or None when the wait would exceed ``max_wait``.

    A stored time beyond any reservation's reach means the clock went back: start afresh.
    """
    if tat is None or tat < now or tat > now + tolerance + max_wait + interval:
        tat = now
    wait = max(0.0, tat - tolerance - now)
    if wait > max_wait:
        return None
    return tat + interval, wait


class RedisBucket:
    def __init__(self, url: str) -> None:
        import redis

        self.errors: tuple[type[Exception], ...] = (redis.RedisError,)
        self._script = redis.Redis.from_url(url).register_script(_GCRA_LUA)

    def reserve(self, key: str, interval: float, tolerance: float, max_wait: float):
        allowed, wait = self._script(
            keys=[REDIS_PREFIX + key], args=[repr(interval), repr(tolerance), repr(max_wait)]
        )
        return float(wait) if int(allowed) else None


class FileBucket:
    """The buckets in an SQLite file; a connection per thread (and per process after a fork)."""

    errors: tuple[type[Exception], ...] = (sqlite3.Error, OSError)

    def __init__(self, path: str) -> None:
        self.path = path
        self._local = threading.local()

    def _connection(self) -> sqlite3.Connection:
        if getattr(self._local, "pid", None) != os.getpid():
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=OFF")  # a lost bucket after a crash is harmless
            conn.execute(
                "CREATE TABLE IF NOT EXISTS bucket (key TEXT PRIMARY KEY, tat REAL NOT NULL)"
            )
            self._local.conn, self._local.pid = conn, os.getpid()
        return self._local.conn

    def reserve(self, key: str, interval: float, tolerance: float, max_wait: float):
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")  # the file's write lock: one reservation at a time
        try:
            row = conn.execute("SELECT tat FROM bucket WHERE key = ?", (key,)).fetchone()
            # CLOCK_MONOTONIC is one clock for all processes of the machine, and tests that
            # travel in time (time-machine) leave it alone.
            now = time.monotonic()
            turn = reserve_turn(row[0] if row else None, now, interval, tolerance, max_wait)
            if turn is not None:
                conn.execute(
                    "INSERT INTO bucket (key, tat) VALUES (?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET tat = excluded.tat",
                    (key, turn[0]),
                )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return None if turn is None else turn[1]


_buckets: dict[str, RedisBucket | FileBucket] = {}
_buckets_lock = threading.Lock()


def _bucket() -> RedisBucket | FileBucket:
    where = settings.REDIS_URL or settings.STRIPE_RATE_FILE
    with _buckets_lock:
        if where not in _buckets:
            url = settings.REDIS_URL
            _buckets[where] = RedisBucket(url) if url else FileBucket(settings.STRIPE_RATE_FILE)
        return _buckets[where]


def budget(*, live: bool) -> tuple[float, float]:
    """(interval, tolerance) in seconds for an account in live or test mode."""
    rate = settings.STRIPE_RATE_LIVE if live else settings.STRIPE_RATE_TEST
    burst = max(1, min(settings.STRIPE_RATE_BURST, int(rate)))
    # 1% slower than the exact pace: a window of one second that opens on a burst and closes
    # on a turn would otherwise hold rate + 1 requests.
    interval = 1.01 / max(rate - burst + 1, 1e-3)
    return interval, (burst - 1) * interval


def throttle(account: str, *, live: bool) -> float:
    """Wait for the turn of one request to ``account`` (in live or test mode); returns the
    seconds waited. Raises ``GatewayError(RATE_LIMITED)`` at once when the turn is more than
    ``STRIPE_RATE_MAX_WAIT`` seconds away."""
    if not settings.STRIPE_RATE_LIMIT:
        return 0.0
    interval, tolerance = budget(live=live)
    bucket = _bucket()
    key = f"{'live' if live else 'test'}:{account}"
    try:
        wait = bucket.reserve(key, interval, tolerance, settings.STRIPE_RATE_MAX_WAIT)
    except bucket.errors as exc:
        logger.warning("stripe rate limit: bucket unavailable (%s); not waiting", exc)
        return 0.0
    if wait is None:
        raise GatewayError(
            RATE_LIMITED,
            "Too many Stripe requests for this account at the moment; try again in a few seconds.",
        )
    if wait > 0:
        time.sleep(wait)
    return wait
