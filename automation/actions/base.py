"""What every action declares: a config form, its outputs, and `execute`.

Config is JSON. Text and amount fields may hold variables (`{{ contact.email }}`); the engine
resolves them into `inputs` before `execute` runs, so actions never see a template.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

from django import forms

from portal.audit import workflow_actor


class ActionError(Exception):
    """A step failed. `code` is one of the normalized codes of integrations/errors.py."""

    def __init__(self, code: str, message: str, *, retryable: bool = False, details=None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retryable = retryable
        self.details = details or {}


class StopRun(Exception):
    """A filter said no: the run ends here, as "stopped", which is not a failure."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class WaitUntil(Exception):
    """The step is not done before `at`: the engine sets the run aside, holding no worker and
    no lock, and executes the step again once `at` has passed (the Wait action)."""

    def __init__(self, at):
        super().__init__(f"waiting until {at.isoformat()}")
        self.at = at


@dataclass(frozen=True)
class ActionContext:
    """What `execute` may know besides its inputs."""

    workspace: Any
    run: Any
    contact: Any
    step_key: str
    # run:<run uuid>:step:<step key>, the same on every attempt; after a retry of a permanent
    # failure, run:<run uuid>:step:<step key>:retry:<n> (StepRun.key_for).
    idempotency_key: str
    # A "Test run" of the draft: on a live-mode connection it must not move money, so Stripe
    # actions validate and show what they would send instead of calling creating endpoints.
    test_run: bool = False
    settings: dict = dataclasses.field(default_factory=dict)  # the workflow's safety settings
    config: dict = dataclasses.field(default_factory=dict)  # the step's settings, unresolved
    # When the step's first attempt started: the same on every attempt and after a wait.
    started_at: Any = None

    @property
    def actor(self) -> str:
        """Who acted, as the audit trail names it: the run's workflow."""
        workflow = getattr(self.run, "workflow", None)
        if workflow is None:
            return "workflow"
        return workflow_actor(workflow, test_run=self.test_run)


class ActionConfigForm(forms.Form):
    """An action's settings in the builder. `to_config()` returns JSON-safe data.

    Fields listed in `variable_fields` accept `{{ ... }}` variables (offered by the picker).
    """

    variable_fields: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *args, workspace=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.workspace = workspace

    def to_config(self) -> dict:
        return {name: value for name, value in self.cleaned_data.items()}


class Action:
    key: ClassVar[str] = ""
    label: ClassVar[str] = ""
    description: ClassVar[str] = ""
    config_form: ClassVar[type[ActionConfigForm]] = ActionConfigForm
    # Its result: the dataclass's fields are the step's outputs, offered as {{ steps.<key>.x }}.
    Output: ClassVar[type | None] = None
    uses_stripe: ClassVar[bool] = False
    # Whether it calls nothing outside the portal's database (a filter, a branch, a contact
    # field): the engine then executes it first and records it in one write, and a run made
    # only of such steps may be executed in the transaction that started it.
    local: ClassVar[bool] = False
    # Control flow: "filter" may stop the run, "branch" picks then/else.
    kind: ClassVar[str] = "action"

    @classmethod
    def output_fields(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls.Output)] if cls.Output else []

    @classmethod
    def execute(cls, inputs: dict, ctx: ActionContext) -> dict:
        raise NotImplementedError
