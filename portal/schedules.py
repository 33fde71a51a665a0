"""The periodic tasks the apps keep: made or corrected after every `migrate` (each app's
AppConfig connects its list to post_migrate)."""

from __future__ import annotations


def schedule_every(*, name: str, func: str, minutes: int) -> None:
    """A django-q2 schedule running `func` every `minutes`, for ever, under `name`."""
    from django_q.models import Schedule

    Schedule.objects.update_or_create(
        name=name,
        defaults={"func": func, "schedule_type": Schedule.MINUTES, "minutes": minutes,
                  "repeats": -1},
    )  # fmt: skip
