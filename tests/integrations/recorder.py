"""A Stripe event receiver for tests: records what it was given, fails when told to."""

from __future__ import annotations

received: list[str] = []
fail_next: list[str] = []  # event ids whose next processing raises


def record(event) -> None:
    if event.event_id in fail_next:
        fail_next.remove(event.event_id)
        raise RuntimeError("subscriber failed on purpose")
    received.append(event.event_id)
