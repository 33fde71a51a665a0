"""django-q2 entry points: load by id, call a service."""

from __future__ import annotations

from integrations.events import event_process


def process_event(event_pk: int) -> None:
    event_process(event_pk=event_pk)
