"""A workflow's definition: a trigger and a tree of steps, and every walk and edit of the tree.

    {"trigger": {"type": key, "config": {...}} or None,
     "steps": [{"key", "type", "name", "config": {...}}, ...]}

An if/else step also holds "then": [steps] and "else": [steps]; they nest to any depth. Step
keys are unique in the whole tree and never change (variables name them: {{ steps.<key>.id }}).

The definition stays plain JSON (it is stored as it is, in drafts, versions and test runs);
the functions here edit it in place.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Required, TypedDict

from django.core.exceptions import ValidationError


class Trigger(TypedDict):
    type: str
    config: dict[str, Any]


# "else" is a keyword, so the functional form.
Step = TypedDict(
    "Step",
    {
        "key": Required[str],
        "type": Required[str],
        "name": str,
        "config": dict[str, Any],
        "then": list["Step"],
        "else": list["Step"],
    },
    total=False,
)


class Definition(TypedDict, total=False):
    trigger: Trigger | None
    steps: list[Step]


BRANCHES = ("then", "else")  # the sides of an if/else step, in the order they are shown


@dataclass(frozen=True)
class Placed:
    """A step where it sits: the list holding it, its index there, and the branches it is in,
    outermost first, as (if/else step key, side); empty on the main line."""

    step: Step
    holder: list[Step]
    index: int
    path: tuple[tuple[str, str], ...] = ()

    @property
    def depth(self) -> int:
        return len(self.path)


def empty_definition() -> Definition:
    return {"trigger": None, "steps": []}


def steps_of(definition: Definition | None) -> list[Step]:
    """The main line of steps (no branch steps)."""
    return (definition or {}).get("steps") or []


def branches_of(step: Step) -> list[tuple[str, list[Step]]]:
    """(side, steps) of each branch the step has: none but for an if/else step."""
    return [(side, step.get(side) or []) for side in BRANCHES if side in step]


def branch_steps(step: Step, side: str) -> list[Step]:
    """The steps of one side of an if/else step (none for another step or side)."""
    return (step.get(side) or []) if side in BRANCHES else []


def steps_walk(definition: Definition | None) -> Iterator[Placed]:
    """Every step, depth first, in execution order (branch steps after their if/else, "then"
    before "else")."""

    def walk(steps: list[Step], path: tuple) -> Iterator[Placed]:
        for index, step in enumerate(steps):
            yield Placed(step, steps, index, path)
            for side, inner in branches_of(step):
                yield from walk(inner, (*path, (step["key"], side)))

    return walk(steps_of(definition), ())


def step_find(definition: Definition | None, key: str) -> Placed:
    """Where step `key` sits; ValidationError if it is not in the tree."""
    found = next((placed for placed in steps_walk(definition) if placed.step["key"] == key), None)
    if found is None:
        raise ValidationError("This step is not in the workflow (any more).", code="no_step")
    return found


def steps_above(definition: Definition | None, key: str) -> list[Step]:
    """The steps that have run when step `key` starts, in order: those before it in its list
    and, for a step inside a branch, the if/else step and everything above that. Never steps
    below it, nor steps inside an earlier if/else's branches (only one of them runs). Empty
    for a key that is not in the tree."""
    try:
        placed = step_find(definition, key)
    except ValidationError:
        return []
    above: list[Step] = []
    for parent_key, _side in placed.path:
        parent = step_find(definition, parent_key)
        above += parent.holder[: parent.index + 1]
    return above + placed.holder[: placed.index]


def step_key_new(definition: Definition | None, base: str) -> str:
    """A key no step has: `base`, else `base_2`, `base_3`..."""
    taken = {placed.step["key"] for placed in steps_walk(definition)}
    if base not in taken:
        return base
    number = 2
    while f"{base}_{number}" in taken:
        number += 1
    return f"{base}_{number}"


def step_new(*, key: str, type: str, name: str, config: dict, branching: bool = False) -> Step:
    """A step; a `branching` one (if/else) starts with both sides empty."""
    step: Step = {"key": key, "type": type, "name": name, "config": config}
    if branching:
        step.update(then=[], **{"else": []})
    return step


def step_insert(
    definition: Definition,
    step: Step,
    *,
    branch: tuple[str, str] | None = None,
    after: str | None = None,
) -> Step:
    """Put `step` into the tree. `branch` is (if/else step key, side) for a step inside a
    branch, None for the main line; `after` is the key of the step to insert after, "" for
    first, None for last. ValidationError when either names no such place."""
    steps = definition.setdefault("steps", [])
    if branch is not None:
        parent_key, side = branch
        parent = step_find(definition, parent_key).step
        if side not in BRANCHES or side not in parent:
            raise ValidationError("Steps can only be added to the branches of an if/else step.")
        steps = parent[side]
    if after is None:
        steps.append(step)
    elif after == "":
        steps.insert(0, step)
    else:
        index = next((i for i, s in enumerate(steps) if s["key"] == after), None)
        if index is None:
            raise ValidationError("The step to add after is not there (any more).")
        steps.insert(index + 1, step)
    return step


def step_replace(definition: Definition, key: str, step: Step) -> Step:
    """Put `step` in the place of step `key` (whole: branches it lacks are gone); returns the
    step replaced."""
    placed = step_find(definition, key)
    placed.holder[placed.index] = step
    return placed.step


def step_remove(definition: Definition, key: str) -> Step:
    """Take step `key` out of the tree (an if/else step with its branches); returns it."""
    placed = step_find(definition, key)
    return placed.holder.pop(placed.index)


def step_move(definition: Definition, key: str, offset: int) -> bool:
    """Move step `key` `offset` places within its own list (-1: up, 1: down); False, and no
    change, when that would leave the list."""
    placed = step_find(definition, key)
    other = placed.index + offset
    if not 0 <= other < len(placed.holder):
        return False
    holder = placed.holder
    holder.insert(other, holder.pop(placed.index))
    return True
