"""django-q2's Redis broker with one connection pool per process.

django-q2 builds a broker, and with it a new Redis client, for every `async_task`: each
enqueue then opened a TCP connection and paid redis-py's connection set-up (about 9 ms, it
reads its package metadata), the largest part of a webhook's answer time. The pool is made
once per process; redis-py makes a new one in a forked child by itself.
"""

from __future__ import annotations

from functools import cache

import redis
from django_q.brokers.redis_broker import Redis
from django_q.conf import Conf


@cache
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


class PooledRedis(Redis):
    @staticmethod
    def get_connection(list_key: str | None = None) -> redis.Redis:
        return _client(Conf.REDIS)
