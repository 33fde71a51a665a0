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

Calls made for pages anyone can load (the payment link's pages: ``visitor_calls``) come after
staff and workflows: they take only a turn that is free now and leaves ``STRIPE_RATE_RESERVE``
turns of the bucket free, never one in the future, so however many visitors ask, a staff page
or a workflow step finds a turn at once. A visitor's call that finds none within a second
fails ``RATE_LIMITED``; its page then answers from what the portal knows.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from django.conf import settings

from integrations.gateway.errors import RATE_LIMITED, GatewayError

logger = logging.getLogger(__name__)

REDIS_PREFIX = "portal:stripe-rate:"

# KEYS[1] the bucket; ARGV interval, tolerance, max wait, keep (seconds; negative: none).
# Returns {1, wait} when the turn is taken, else {0, seconds before asking again may succeed}.
_GCRA_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local interval, tolerance, max_wait = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local keep = tonumber(ARGV[4])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now or tat > now + tolerance + max_wait + interval then tat = now end
local wait = math.max(0, tat - tolerance - now)
if keep >= 0 then
  local short = tat + keep - tolerance - now
  if short > 0 then return {0, string.format('%.6f', short)} end
end
if wait > max_wait then return {0, string.format('%.6f', wait - max_wait)} end
local ttl = math.ceil((tat + interval - now) * 1000) + 60000  -- a minute after its turn
redis.call('SET', KEYS[1], string.format('%.6f', tat + interval), 'PX', ttl)
return {1, string.format('%.6f', wait)}
"""


def reserve_turn(
    tat: float | None,
    now: float,
    interval: float,
    tolerance: float,
    max_wait: float,
    keep: float | None = None,
) -> tuple[float | None, float]:
    """GCRA (the Lua script above does the same): (the new theoretical arrival time, the wait
    before this request may go), or (None, seconds before asking again may succeed) when the
    wait would exceed ``max_wait``.

    With ``keep`` (the reserve, in seconds: its turns times the interval) only a turn free now
    is taken, and only if the reserve's turns stay free after it: the rule of calls made for
    visitors, who never take a turn staff could have had.

    A stored time beyond any reservation's reach means the clock went back: start afresh.
    """
    if tat is None or tat < now or tat > now + tolerance + max_wait + interval:
        tat = now
    wait = max(0.0, tat - tolerance - now)
    if keep is not None and tat + keep - tolerance - now > 0:
        return None, tat + keep - tolerance - now
    if wait > max_wait:
        return None, wait - max_wait
    return tat + interval, wait


class RedisBucket:
    def __init__(self, url: str) -> None:
        import redis

        self.errors: tuple[type[Exception], ...] = (redis.RedisError,)
        self._script = redis.Redis.from_url(url).register_script(_GCRA_LUA)

    def reserve(
        self, key: str, interval: float, tolerance: float, max_wait: float, keep=None
    ) -> tuple[bool, float]:
        keep = -1.0 if keep is None else keep  # the script's "none"
        args = [repr(interval), repr(tolerance), repr(max_wait), repr(keep)]
        allowed, wait = self._script(keys=[REDIS_PREFIX + key], args=args)
        return bool(int(allowed)), float(wait)


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

    def reserve(
        self, key: str, interval: float, tolerance: float, max_wait: float, keep=None
    ) -> tuple[bool, float]:
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")  # the file's write lock: one reservation at a time
        try:
            row = conn.execute("SELECT tat FROM bucket WHERE key = ?", (key,)).fetchone()
            # CLOCK_MONOTONIC is one clock for all processes of the machine, and tests that
            # travel in time (time-machine) leave it alone.
            now = time.monotonic()
            tat, wait = reserve_turn(
                row[0] if row else None, now, interval, tolerance, max_wait, keep
            )
            if tat is not None:
                conn.execute(
                    "INSERT INTO bucket (key, tat) VALUES (?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET tat = excluded.tat",
                    (key, tat),
                )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return tat is not None, wait


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


# Whether the calls made now are for a page anyone can load (see the module's docstring).
_for_visitors: ContextVar[bool] = ContextVar("stripe_calls_for_visitors", default=False)
# The longest a visitor's call waits for a free turn: a page waiting longer holds a web thread
# that other visitors need, and the page can answer from the ledger instead.
VISITOR_MAX_WAIT = 1.0


@contextmanager
def visitor_calls() -> Iterator[None]:
    """The Stripe calls made inside (in this thread or task) are made for a page anyone can
    load: they leave the bucket's reserve to staff and workflows. Also a decorator."""
    token = _for_visitors.set(True)
    try:
        yield
    finally:
        _for_visitors.reset(token)


def for_visitors() -> bool:
    """Whether the calls made now are a visitor's (inside ``visitor_calls``)."""
    return _for_visitors.get()


def _too_many() -> GatewayError:
    return GatewayError(
        RATE_LIMITED,
        "Too many Stripe requests for this account at the moment; try again in a few seconds.",
    )


def throttle(account: str, *, live: bool) -> float:
    """Wait for the turn of one request to ``account`` (in live or test mode); returns the
    seconds waited. Raises ``GatewayError(RATE_LIMITED)`` at once when the turn is more than
    ``STRIPE_RATE_MAX_WAIT`` seconds away, or, for a visitor's call, when no turn leaving the
    reserve comes free within ``VISITOR_MAX_WAIT``."""
    if not settings.STRIPE_RATE_LIMIT:
        return 0.0
    interval, tolerance = budget(live=live)
    bucket = _bucket()
    key = f"{'live' if live else 'test'}:{account}"
    max_wait = settings.STRIPE_RATE_MAX_WAIT
    keep = None
    if for_visitors():  # the reserve, of at most all the burst but one (else visitors never go)
        keep = min(max(0, settings.STRIPE_RATE_RESERVE) * interval, tolerance)
    deadline = time.monotonic() + min(max_wait, VISITOR_MAX_WAIT)
    waited = 0.0
    while True:
        try:
            granted, wait = bucket.reserve(key, interval, tolerance, max_wait, keep)
        except bucket.errors as exc:
            logger.warning("stripe rate limit: bucket unavailable (%s); not waiting", exc)
            return waited
        if granted:
            break
        # A visitor's call asks again once the reserve could be free (staff may take it first).
        if keep is None or time.monotonic() + wait > deadline:
            raise _too_many()
        time.sleep(wait)
        waited += wait
    if wait > 0:
        time.sleep(wait)
    return waited + wait
