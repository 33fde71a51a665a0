"""Per-address rate limits of the public pages (forms, bookings, the pay page), counted in the
cache: every process shares the counts when the cache is Redis (the scale-out set-up).

A key's window starts with its first hit and lasts `window` seconds; the hits after the
`limit`-th in it are refused. (Stripe's own rate limit is another thing:
integrations/gateway/rate_limit.py.)
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """REMOTE_ADDR, not X-Forwarded-For: a client can write any X-Forwarded-For it likes.
    Behind a proxy, the proxy must set REMOTE_ADDR to the client's address."""
    return request.META.get("REMOTE_ADDR", "")


@dataclass(frozen=True)
class RateLimit:
    scope: str  # the cache keys' prefix
    limit: int  # hits allowed per key...
    window: int  # ...in this many seconds

    def _cache_key(self, key: str) -> str:
        return f"{self.scope}:{key}"

    def hit(self, key: str) -> bool:
        """Count a hit; True when the key has now had more than `limit` in its window."""
        name = self._cache_key(key)
        cache.add(name, 0, timeout=self.window)  # the window starts with the first hit
        try:
            return cache.incr(name) > self.limit
        except ValueError:  # expired between add and incr
            cache.add(name, 1, timeout=self.window)
            return False

    def used_up(self, key: str) -> bool:
        """True when the key has had `limit` hits in its window (the next would be refused);
        counts nothing."""
        return cache.get(self._cache_key(key), 0) >= self.limit
