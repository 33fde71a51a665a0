"""Everything the sandbox holds, in one place so it can be reset and persisted together.

localstripe's resources read a module-global store, so there is one sandbox state per process
(``STATE``); run one sandbox server per process.
"""

from __future__ import annotations

from stripe_sandbox.accounts import KeyRegistry
from stripe_sandbox.connect import ConnectRegistry
from stripe_sandbox.faults import FaultQueue
from stripe_sandbox.idempotency import IdempotencyStore
from stripe_sandbox.rate_limit import RateLimiter
from stripe_sandbox.request_log import RequestLog
from stripe_sandbox.store import STORE, PartitionedStore
from stripe_sandbox.webhooks import DELIVERIES, Deliveries


class SandboxState:
    """Objects by account, keys, Connect platforms, idempotency entries, faults, the rate
    limit and logs."""

    def __init__(self, store: PartitionedStore, deliveries: Deliveries) -> None:
        self.store = store
        self.keys = KeyRegistry()
        self.connect = ConnectRegistry()
        self.idempotency = IdempotencyStore()
        self.faults = FaultQueue()
        self.rate_limit = RateLimiter()
        self.requests = RequestLog()
        self.deliveries = deliveries

    def reset(self) -> None:
        """Wipe all data, keys, platforms, faults, logs and webhook endpoints; the rate limit
        returns to its default."""
        self.store.reset()
        self.keys.reset()
        self.connect.reset()
        self.idempotency.reset()
        self.faults.reset()
        self.rate_limit.reset()
        self.requests.reset()
        self.deliveries.reset()


STATE = SandboxState(STORE, DELIVERIES)
