"""A stand-in for localstripe's global ``store`` that keeps one dict per account.

localstripe keeps every object in one module-level dict (keys like ``"customer:cus_123"``) and
pickles it to /tmp on every write. The sandbox replaces that dict with ``PartitionedStore``: the
same mapping interface, but every operation goes to the partition of the account in the current
request context, so one account's keys never see (or list) another account's objects, and nothing
is written to disk.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from stripe_sandbox import context

# Used when no request context is set (e.g. code run from the control API). Kept separate so
# it can never leak into an account.
NO_ACCOUNT = "_no_account"


class PartitionedStore:
    """Dict-like view on ``partitions[current account]``; only what localstripe uses."""

    def __init__(self) -> None:
        self.partitions: dict[str, dict[str, Any]] = {}

    def _part(self) -> dict[str, Any]:
        ctx = context.current()
        account_id = ctx.account_id if ctx else NO_ACCOUNT
        return self.partitions.setdefault(account_id, {})

    def for_account(self, account_id: str) -> dict[str, Any]:
        """The raw partition of ``account_id`` (created empty if missing)."""
        return self.partitions.setdefault(account_id, {})

    def reset(self) -> None:
        """Drop every account's objects."""
        self.partitions.clear()

    # The dict interface localstripe relies on.
    def __getitem__(self, key: str) -> Any:
        return self._part()[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._part()[key] = value

    def __delitem__(self, key: str) -> None:
        del self._part()[key]

    def __contains__(self, key: object) -> bool:
        return key in self._part()

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._part()))

    def __len__(self) -> int:
        return len(self._part())

    def get(self, key: str, default: Any = None) -> Any:
        return self._part().get(key, default)

    def keys(self) -> list[str]:
        return list(self._part().keys())

    def values(self) -> list[Any]:
        return list(self._part().values())

    def items(self) -> list[tuple[str, Any]]:
        # A copy: localstripe sometimes creates objects while iterating.
        return list(self._part().items())

    def pop(self, key: str, *default: Any) -> Any:
        return self._part().pop(key, *default)

    def clear(self) -> None:
        self._part().clear()

    # localstripe's Store API; persistence is handled by stripe_sandbox.persistence.
    def dump_to_disk(self) -> None:
        """No-op: localstripe would pickle to /tmp on every write."""

    def try_load_from_disk(self) -> None:
        """No-op: see ``dump_to_disk``."""


STORE = PartitionedStore()
