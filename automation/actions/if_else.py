"""If / else: two branches; the condition picks one."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from automation.actions.base import Action as BaseAction
from automation.actions.base import ActionError
from automation.actions.conditions import ConditionForm, holds


@dataclass
class Output:
    branch: str  # "then" or "else"


class Action(BaseAction):
    key = "if_else"
    label = "If / else"
    description = "Do one thing or another depending on a condition."
    config_form = ConditionForm
    Output = Output
    local = True
    kind = "branch"

    @classmethod
    def execute(cls, inputs, ctx):
        try:
            return asdict(Output("then" if holds(inputs) else "else"))
        except ValueError as error:
            raise ActionError(
                "VALIDATION_ERROR", f"The condition cannot be checked: {error}."
            ) from None
