"""A rate limit's count under concurrency: with many requests at once (threads here, separate
processes sharing Redis in production), exactly `limit` pass per window and the window ends."""

import threading
import time

from django.core.cache import cache

from portal.ratelimit import RateLimit


def _burst(limit: RateLimit, key: str, n: int = 40) -> list[bool]:
    refused: list[bool] = []
    start = threading.Barrier(n)

    def one() -> None:
        start.wait()
        refused.append(limit.hit(key))

    threads = [threading.Thread(target=one) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return refused


def test_a_burst_lets_exactly_the_limit_through_and_the_window_then_ends():
    cache.clear()
    limit = RateLimit("count-test", limit=3, window=1)
    assert sorted(_burst(limit, "k")) == [False] * 3 + [True] * 37
    assert limit.used_up("k")
    time.sleep(1.2)
    assert not limit.used_up("k")  # the window ended: the count is gone, not stuck
    assert _burst(limit, "k", 5).count(False) == 3


def test_windows_that_end_mid_burst_never_let_two_through_at_once():
    """Hits spread over several windows: each window lets one through, however the hits
    race the expiry (a count that outlived its window would refuse every hit after it)."""
    cache.clear()
    limit = RateLimit("edge-test", limit=1, window=1)
    allowed: list[float] = []
    lock = threading.Lock()
    stop = time.monotonic() + 2.5

    def visitor() -> None:
        while time.monotonic() < stop:
            if not limit.hit("k"):
                with lock:
                    allowed.append(time.monotonic())
            time.sleep(0)

    threads = [threading.Thread(target=visitor) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert 2 <= len(allowed) <= 3, allowed
    gaps = [b - a for a, b in zip(allowed, allowed[1:], strict=False)]
    assert all(gap >= 0.9 for gap in gaps), gaps
