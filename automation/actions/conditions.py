"""The condition of filter and if/else steps: `<left> <operator> <right>`."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms

from automation.actions.base import ActionConfigForm

OPERATORS = [
    ("equals", "equals"),
    ("not_equals", "does not equal"),
    ("contains", "contains"),
    ("starts_with", "starts with"),
    ("greater_than", "is greater than"),
    ("less_than", "is less than"),
    ("is_empty", "is empty"),
    ("is_not_empty", "is not empty"),
]


class ConditionForm(ActionConfigForm):
    variable_fields = ("left", "right")

    left = forms.CharField(label="Value", initial="{{ trigger.type }}")
    operator = forms.ChoiceField(choices=OPERATORS)
    right = forms.CharField(label="Compared with", required=False)


def _number(value) -> Decimal:
    try:
        return Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None


def holds(inputs: dict) -> bool:
    """Whether the condition holds (text comparisons ignore case and surrounding spaces)."""
    left, right, op = inputs.get("left"), inputs.get("right"), inputs.get("operator")
    text_left = "" if left is None else str(left).strip()
    text_right = "" if right is None else str(right).strip()
    if op == "is_empty":
        return text_left == ""
    if op == "is_not_empty":
        return text_left != ""
    if op in ("greater_than", "less_than"):
        a, b = _number(left), _number(right)
        return a > b if op == "greater_than" else a < b
    a, b = text_left.lower(), text_right.lower()
    return {
        "equals": a == b,
        "not_equals": a != b,
        "contains": b in a,
        "starts_with": a.startswith(b),
    }[op]
