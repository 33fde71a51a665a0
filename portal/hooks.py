"""How a lower app tells the apps above it that something happened, without importing them.

The one convention of the portal for news travelling up the layers:

- The app that has the news defines a `Hook` in its `hooks.py`, with its stages in the order
  they must run and the reason for that order next to them.
- An app that wants the news writes a receiver in its `receivers.py`, named `on_<hook name>`,
  and connects it to its stage in its `AppConfig.ready()`.
- The app with the news calls `hook.send(...)`; every stage's receiver runs in the stated
  order, in the caller's transaction, and an exception stops the rest and reaches the caller.

Calls down the layers stay ordinary function calls. A stage takes one receiver, so the order
is read in one place and a forgotten or doubled registration is an error at start-up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Hook:
    def __init__(self, name: str, *, stages: tuple[str, ...]) -> None:
        self.name = name
        self.stages = stages
        self._receivers: dict[str, Callable[..., Any]] = {}

    def connect(self, stage: str, receiver: Callable[..., Any]) -> None:
        """Register `receiver` for `stage` (at start-up, from an `AppConfig.ready()`)."""
        if stage not in self.stages:
            raise ValueError(f"The hook {self.name!r} has no stage {stage!r}.")
        current = self._receivers.get(stage)
        if current is not None and current is not receiver:
            raise ValueError(f"The stage {stage!r} of {self.name!r} already has a receiver.")
        self._receivers[stage] = receiver

    def receivers(self) -> list[tuple[str, Callable[..., Any]]]:
        """(stage, receiver) in the order they run."""
        return [(s, self._receivers[s]) for s in self.stages if s in self._receivers]

    def send(self, *args: Any, **kwargs: Any) -> list[Any]:
        """Run every receiver in stage order; their answers, in the same order."""
        return [receiver(*args, **kwargs) for _, receiver in self.receivers()]
