from __future__ import annotations

import pytest

from automation.actions.conditions import holds
from tests.automation.conftest import charge_step, publish


def _filter(left, operator, right=""):
    return {
        "key": "only_big",
        "type": "filter",
        "name": "Only big leads",
        "config": {"left": left, "operator": operator, "right": right},
    }


def test_a_failing_filter_stops_the_run_before_the_charge(
    workspace, connection, contact, trigger_run, sandbox
):
    publish(
        workspace,
        [
            _filter("{{ contact.custom.lead_value }}", "greater_than", "200"),
            charge_step(connection),
        ],
    )
    run = trigger_run(workspace, contact=contact)
    assert run.status == "stopped" and "does not hold" in run.error_message
    assert sandbox.control.requests(path="/v1/payment_intents") == []


def test_a_passing_filter_lets_the_run_go_on(workspace, connection, contact, trigger_run):
    publish(
        workspace,
        [
            _filter("{{ contact.custom.lead_value }}", "greater_than", "100"),
            charge_step(connection),
        ],
    )
    assert trigger_run(workspace, contact=contact).status == "succeeded"


@pytest.mark.parametrize(
    ("left", "op", "right", "expected"),
    [
        ("charge.succeeded", "equals", "Charge.Succeeded", True),
        ("a", "not_equals", "a", False),
        ("payment_intent.failed", "contains", "failed", True),
        ("x", "starts_with", "y", False),
        ("10", "less_than", "9.5", False),
        ("", "is_empty", "", True),
        (" ", "is_not_empty", "", False),
    ],
)
def test_operators(left, op, right, expected):
    assert holds({"left": left, "operator": op, "right": right}) is expected


def test_comparing_text_as_numbers_is_a_validation_error(workspace, trigger_run):
    publish(workspace, [_filter("{{ trigger.type }}", "greater_than", "3")])
    run = trigger_run(workspace)
    assert (run.status, run.error_code) == ("failed", "VALIDATION_ERROR")
