"""The definition's tree: walking it (path and depth), finding, inserting, replacing, removing
and moving steps, keys, and the steps that have run when a step starts, nested branches
included."""

from __future__ import annotations

import copy

import pytest
from django.core.exceptions import ValidationError

from automation.definition import (
    branch_steps,
    branches_of,
    empty_definition,
    step_find,
    step_insert,
    step_key_new,
    step_move,
    step_new,
    step_remove,
    step_replace,
    steps_above,
    steps_of,
    steps_walk,
)


def _step(key: str, type: str = "filter") -> dict:
    return {"key": key, "type": type, "name": key.title(), "config": {}}


def _if(key: str, then: list, otherwise: list) -> dict:
    return {**_step(key, "if_else"), "then": then, "else": otherwise}


@pytest.fixture
def definition() -> dict:
    """a, outer (then: b, inner (then: c; else: d), e; else: f), g."""
    inner = _if("inner", [_step("c")], [_step("d")])
    outer = _if("outer", [_step("b"), inner, _step("e")], [_step("f")])
    return {"trigger": {"type": "manual", "config": {}},
            "steps": [_step("a"), outer, _step("g")]}  # fmt: skip


def _keys(steps) -> list[str]:
    return [step["key"] for step in steps]


# --- reading ---------------------------------------------------------------------------------


def test_walk_goes_depth_first_in_execution_order(definition):
    assert [p.step["key"] for p in steps_walk(definition)] == [
        "a", "outer", "b", "inner", "c", "d", "e", "f", "g"
    ]  # fmt: skip


def test_walk_gives_each_step_its_path_depth_and_place(definition):
    placed = {p.step["key"]: p for p in steps_walk(definition)}
    assert placed["a"].path == () and placed["a"].depth == 0
    assert placed["b"].path == (("outer", "then"),)
    assert placed["d"].path == (("outer", "then"), ("inner", "else"))
    assert placed["d"].depth == 2
    assert placed["f"].path == (("outer", "else"),)
    for p in placed.values():
        assert p.holder[p.index] is p.step


def test_walk_of_nothing_is_empty():
    assert list(steps_walk(None)) == []
    assert list(steps_walk({})) == []
    assert list(steps_walk({"steps": None})) == []
    assert list(steps_walk(empty_definition())) == []


def test_main_line_and_branches(definition):
    assert _keys(steps_of(definition)) == ["a", "outer", "g"]
    assert steps_of(None) == []
    outer = definition["steps"][1]
    assert [(side, _keys(steps)) for side, steps in branches_of(outer)] == [
        ("then", ["b", "inner", "e"]), ("else", ["f"])
    ]  # fmt: skip
    assert branches_of(definition["steps"][0]) == []
    assert _keys(branch_steps(outer, "else")) == ["f"]
    assert branch_steps(outer, "config") == []
    assert branch_steps(outer, None) == []
    assert branch_steps(definition["steps"][0], "then") == []


def test_find_reaches_nested_branches(definition):
    placed = step_find(definition, "d")
    assert placed.step["key"] == "d"
    assert _keys(placed.holder) == ["d"] and placed.index == 0
    with pytest.raises(ValidationError) as error:
        step_find(definition, "missing")
    assert error.value.code == "no_step"


def test_steps_above_are_those_that_have_run(definition):
    assert steps_above(definition, "a") == []
    assert _keys(steps_above(definition, "g")) == ["a", "outer"]
    assert _keys(steps_above(definition, "b")) == ["a", "outer"]
    assert _keys(steps_above(definition, "e")) == ["a", "outer", "b", "inner"]
    # Inside a nested branch: everything above its if/else steps, not the other side.
    assert _keys(steps_above(definition, "d")) == ["a", "outer", "b", "inner"]
    assert _keys(steps_above(definition, "f")) == ["a", "outer"]
    assert steps_above(definition, "missing") == []


def test_new_keys_are_unique_in_the_whole_tree(definition):
    assert step_key_new(definition, "send_email") == "send_email"
    definition["steps"][1]["else"].append(_step("filter"))
    definition["steps"][1]["then"][1]["then"].append(_step("filter_2"))
    assert step_key_new(definition, "filter") == "filter_3"
    assert step_key_new(None, "filter") == "filter"


def test_new_steps_branch_only_when_asked():
    assert step_new(key="f", type="filter", name="F", config={"x": 1}) == {
        "key": "f", "type": "filter", "name": "F", "config": {"x": 1}
    }  # fmt: skip
    branching = step_new(key="i", type="if_else", name="I", config={}, branching=True)
    assert branching["then"] == [] and branching["else"] == []


# --- editing -----------------------------------------------------------------------------------


def test_insert_on_the_main_line(definition):
    step_insert(definition, _step("last"))
    step_insert(definition, _step("first"), after="")
    step_insert(definition, _step("after_a"), after="a")
    assert _keys(steps_of(definition)) == ["first", "a", "after_a", "outer", "g", "last"]


def test_insert_into_an_empty_definition():
    definition = {"trigger": None}
    step_insert(definition, _step("a"))
    assert _keys(definition["steps"]) == ["a"]


def test_insert_into_a_nested_branch(definition):
    step_insert(definition, _step("x"), branch=("inner", "else"))
    step_insert(definition, _step("y"), branch=("inner", "else"), after="")
    step_insert(definition, _step("z"), branch=("outer", "then"), after="inner")
    inner = step_find(definition, "inner").step
    assert _keys(inner["else"]) == ["y", "d", "x"]
    assert _keys(definition["steps"][1]["then"]) == ["b", "inner", "z", "e"]


def test_insert_refuses_places_that_are_not_there(definition):
    before = copy.deepcopy(definition)
    with pytest.raises(ValidationError) as error:
        step_insert(definition, _step("x"), branch=("missing", "then"))
    assert error.value.code == "no_step"
    with pytest.raises(ValidationError, match="branches of an if/else"):
        step_insert(definition, _step("x"), branch=("a", "then"))
    with pytest.raises(ValidationError, match="branches of an if/else"):
        step_insert(definition, _step("x"), branch=("outer", "config"))
    with pytest.raises(ValidationError, match="add after is not there"):
        step_insert(definition, _step("x"), branch=("outer", "else"), after="b")
    assert definition == before


def test_replace_in_a_nested_branch(definition):
    old = step_find(definition, "c").step
    replaced = step_replace(definition, "c", {**old, "name": "Renamed"})
    assert replaced is old
    assert step_find(definition, "c").step["name"] == "Renamed"
    with pytest.raises(ValidationError):
        step_replace(definition, "missing", _step("missing"))


def test_remove_takes_an_if_else_with_its_branches(definition):
    removed = step_remove(definition, "inner")
    assert removed["key"] == "inner"
    assert [p.step["key"] for p in steps_walk(definition)] == ["a", "outer", "b", "e", "f", "g"]
    assert _keys(step_remove(definition, "outer")["then"]) == ["b", "e"]
    assert _keys(steps_of(definition)) == ["a", "g"]
    with pytest.raises(ValidationError):
        step_remove(definition, "c")


def test_move_stays_within_its_list(definition):
    assert step_move(definition, "e", -1) is True
    assert _keys(definition["steps"][1]["then"]) == ["b", "e", "inner"]
    # At the ends of its list a step stays (it never leaves its branch).
    assert step_move(definition, "b", -1) is False
    assert step_move(definition, "f", 1) is False
    assert step_move(definition, "g", 1) is False
    assert step_move(definition, "a", 1) is True
    assert _keys(steps_of(definition)) == ["outer", "a", "g"]
    with pytest.raises(ValidationError):
        step_move(definition, "missing", 1)
