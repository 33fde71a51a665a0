"""What every trigger declares: its filters form, its outputs, and whether an event matches."""

from __future__ import annotations

from django import forms


class TriggerConfigForm(forms.Form):
    """A trigger's filters; `to_config()` returns JSON-safe data.

    `workflow` is the workflow being built and `member_perms` what the member editing it may
    do, for forms whose settings reach beyond the workflow's definition (a Stripe trigger's
    own webhook endpoint). `panel_template`, if set, renders the form in the builder's panel.
    """

    panel_template = ""

    def __init__(self, *args, workspace=None, workflow=None, member_perms=frozenset(), **kwargs):
        super().__init__(*args, **kwargs)
        self.workspace = workspace
        self.workflow = workflow
        self.member_perms = frozenset(member_perms)

    def to_config(self) -> dict:
        return {}


class Trigger:
    key: str = ""
    label: str = ""
    config_form: type[TriggerConfigForm] = TriggerConfigForm
    # Variable paths under `trigger.` offered by the picker.
    outputs: list[str] = []
    # Whether runs get a contact (their `contact.*` variables).
    has_contact: bool = True
    # Whether a stranger supplies the payload (a public page): then its values, and the
    # contact they found, must never choose whose card is charged or an uncapped amount.
    visitor_input: bool = False

    @classmethod
    def matches(cls, config: dict, trigger: dict) -> bool:
        """Whether an event of this type passes the workflow's filters."""
        return True

    @classmethod
    def sample(cls, workspace) -> dict:
        """A representative trigger payload for "Test run"."""
        return {"type": cls.key}

    @classmethod
    def config_saved(cls, *, workflow, form: TriggerConfigForm) -> str | None:
        """After the builder stored `form.to_config()` in the draft: keep what lives outside
        the definition (a signing secret). None closes the panel; a sentence keeps it open
        and is shown beside "Trigger saved". ValidationError: shown on the form."""
        return None

    @classmethod
    def publish_problems(cls, config: dict, workflow) -> list[str]:
        """Why a workflow with this trigger cannot be published yet, one sentence each."""
        return []

    @classmethod
    def describe(cls, config: dict, workspace) -> str:
        """The trigger and its filters in words, for the builder."""
        return cls.label
