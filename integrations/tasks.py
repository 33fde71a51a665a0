"""django-q2 entry points: load by id, call a service."""

from __future__ import annotations

from integrations.events import event_process, events_drain, events_resume_lost
from integrations.health import connection_owners_warn


def drain_events() -> int:
    return events_drain()


def process_event(event_pk: int) -> None:  # tasks queued before the drains
    event_process(event_pk=event_pk)


def warn_owners_of_rejected_key(connection_id: int) -> None:
    connection_owners_warn(connection_id=connection_id)


def resume_lost_events() -> int:
    return events_resume_lost()
