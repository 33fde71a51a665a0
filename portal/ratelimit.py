"""Per-address rate limits of the public pages (forms, bookings, the pay page), counted in the
cache: every process shares the counts when the cache is Redis (the scale-out set-up).

A key's window starts with its first hit and lasts `window` seconds; the hits after the
`limit`-th in it are refused. (Stripe's own rate limit is another thing:
integrations/gateway/rate_limit.py.)
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.core.cache import cache as counts
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """The address of the client, for the rate limits and the log-in lock-out alike.

    Directly on the internet (no trusted proxies configured) it is REMOTE_ADDR: anyone can
    write an X-Forwarded-For. Behind proxies, each appends the address it got the request
    from to X-Forwarded-For, so the header is read from the right, and only across hops the
    settings trust: TRUSTED_PROXY_COUNT proxies in front of the portal, or the addresses in
    TRUSTED_PROXIES (networks allowed). Whatever the client wrote at the left is never taken.
    (django-ipware, which axes can use, was tried: with a proxy count it either wants the
    header to hold exactly that many entries or takes the left-most, the client's own.)
    An address from the header is returned in its canonical spelling, so one address is one
    rate-limit key however it was written.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    count, trusted = settings.TRUSTED_PROXY_COUNT, _networks(tuple(settings.TRUSTED_PROXIES))
    if not count and not trusted:
        return remote
    if trusted and not _within(remote, trusted):
        return remote  # not sent by one of our proxies: its header means nothing
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    chain = [h for h in hops if h] + [remote]
    if count:
        # The last `count` entries are our proxies (REMOTE_ADDR the nearest); the one before
        # them is the client. Fewer entries: the request skipped a proxy, trust none.
        candidate = chain[-count - 1] if len(chain) > count else remote
    else:
        candidate = next((h for h in reversed(chain) if not _within(h, trusted)), chain[0])
    address = _address(candidate)
    return str(address) if address else remote


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address `text` spells, or None. A zone ("fe80::1%eth0") names an interface of the
    machine that wrote it, not a client, and database address columns refuse it: None."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    return None if getattr(address, "scope_id", None) else address


@cache
def _networks(entries: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(e.strip(), strict=False) for e in entries if e.strip())


def _within(text: str, networks: tuple) -> bool:
    address = _address(text)
    return address is not None and any(address in network for network in networks)


@dataclass(frozen=True)
class RateLimit:
    scope: str  # the cache keys' prefix
    limit: int  # hits allowed per key...
    window: int  # ...in this many seconds

    def _cache_key(self, key: str) -> str:
        return f"{self.scope}:{key}"

    def hit(self, key: str) -> bool:
        """Count a hit; True when the key has now had more than `limit` in its window."""
        return _count(self._cache_key(key), self.window) > self.limit

    def used_up(self, key: str) -> bool:
        """True when the key has had `limit` hits in its window (the next would be refused);
        counts nothing."""
        return counts.get(self._cache_key(key), 0) >= self.limit


def _count(name: str, window: int) -> int:
    """Add one to the count under `name` and return it; the first hit starts a `window`-second
    window. Atomic under concurrency: with Redis one MULTI (SET NX EX, then INCR), so no count
    outlives its window and no two hits read the same number; elsewhere (the in-process cache)
    add-or-increment, tried again when the key expires in between."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        key = backend.make_and_validate_key(name)
        with backend._cache.get_client(key, write=True).pipeline(transaction=True) as multi:
            multi.set(key, 0, ex=window, nx=True).incr(key)
            return int(multi.execute()[-1])
    for _ in range(5):
        if counts.add(name, 1, timeout=window):
            return 1
        try:
            return counts.incr(name)
        except ValueError:  # expired since the add: start a new window
            continue
    return 1
