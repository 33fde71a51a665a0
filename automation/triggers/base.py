"""What every trigger declares: its filters form, its outputs, and whether an event matches."""

from __future__ import annotations

from django import forms


class TriggerConfigForm(forms.Form):
    """A trigger's filters; `to_config()` returns JSON-safe data."""

    def __init__(self, *args, workspace=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.workspace = workspace

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
    def describe(cls, config: dict, workspace) -> str:
        """The trigger and its filters in words, for the builder."""
        return cls.label
