"""django-q2 entry points: load by id, call a service."""

from __future__ import annotations

from automation.engine import run_execute


def execute_run(run_pk: int) -> None:
    run_execute(run_pk=run_pk)
