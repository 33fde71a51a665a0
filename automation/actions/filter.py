"""Filter: the run goes on only while a condition holds."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from automation.actions.base import Action as BaseAction
from automation.actions.base import ActionError, StopRun
from automation.actions.conditions import ConditionForm, holds


@dataclass
class Output:
    passed: bool


class Action(BaseAction):
    key = "filter"
    label = "Filter (stop unless)"
    description = "Stop the run unless a condition holds."
    config_form = ConditionForm
    Output = Output
    local = True
    kind = "filter"

    @classmethod
    def execute(cls, inputs, ctx):
        try:
            passed = holds(inputs)
        except ValueError as error:
            raise ActionError(
                "VALIDATION_ERROR", f"The condition cannot be checked: {error}."
            ) from None
        if not passed:
            raise StopRun(
                f"Stopped: {inputs.get('left')!r} {inputs.get('operator')} {inputs.get('right')!r}"
                " does not hold."
            )
        return asdict(Output(True))
