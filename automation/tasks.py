"""django-q2 entry points: load by id, call a service."""

from __future__ import annotations

from automation.engine import run_execute
from automation.services.runs import runs_resume_stale


def execute_run(run_pk: int) -> None:
    run_execute(run_pk=run_pk)


def resume_stale_runs() -> int:
    return runs_resume_stale()
