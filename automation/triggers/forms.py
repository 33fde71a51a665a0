"""Form submitted: filter by forms (none chosen = any form)."""

from __future__ import annotations

import uuid

from django import forms
from django.utils import timezone

from automation.triggers.base import Trigger, TriggerConfigForm

_SAMPLE_VALUES = {
    "name": "Jane Doe",
    "email": "jane@example.com",
    "phone": "+1 555 0100",
    "text": "I'd like a quote.",
    "number": "150",
    "checkbox": True,
}


class FormFilterForm(TriggerConfigForm):
    forms = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Only submissions of these forms start the workflow (none chosen: any form).",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.workspace is not None:
            self.fields["forms"].choices = [
                (str(f.uuid), f.name) for f in self.workspace.forms.all()
            ]

    def to_config(self) -> dict:
        return {"forms": list(self.cleaned_data.get("forms") or [])}


class FormSubmitted(Trigger):
    key = "form_submitted"
    label = "Form submitted"
    config_form = FormFilterForm
    outputs = [
        "type",
        "form.id",
        "form.name",
        "form.slug",
        "submission.id",
        "submission.submitted_at",
        "fields.name",
        "fields.email",
        "fields.phone",
        "fields.lead_value",
    ]
    # The form is public: its fields, and the contact found by the e-mail typed, come from
    # whoever filled it in.
    visitor_input = True

    @classmethod
    def matches(cls, config: dict, trigger: dict) -> bool:
        wanted = config.get("forms") or []
        return not wanted or (trigger.get("form") or {}).get("id") in wanted

    @classmethod
    def sample(cls, workspace) -> dict:
        form = workspace.forms.first() if workspace is not None else None
        if form is None:
            info = {"id": str(uuid.uuid4()), "name": "Lead form", "slug": "lead-form"}
            fields = {"name": "Jane Doe", "email": "jane@example.com", "lead_value": "150"}
        else:
            info = {"id": str(form.uuid), "name": form.name, "slug": form.slug}
            fields = {
                f.key: (f.choices[0] if f.kind == "dropdown" and f.choices else None)
                or _SAMPLE_VALUES.get(f.kind, "")
                for f in form.fields.all()
            }
        return {
            "type": cls.key,
            "form": info,
            "submission": {"id": str(uuid.uuid4()), "submitted_at": timezone.now().isoformat()},
            "fields": fields,
        }

    @classmethod
    def describe(cls, config: dict, workspace) -> str:
        wanted = config.get("forms") or []
        if not wanted:
            return f"{cls.label}: any form"
        names = {str(k): v for k, v in workspace.forms.filter(uuid__in=_uuids(wanted))
                 .values_list("uuid", "name")}  # fmt: skip
        shown = [names.get(u, "(deleted form)") for u in wanted]
        return f"{cls.label}: {', '.join(shown)}"


def _uuids(values: list[str]) -> list[uuid.UUID]:
    """The valid UUIDs among `values` (a stored config may hold anything)."""
    valid = []
    for value in values:
        try:
            valid.append(uuid.UUID(str(value)))
        except ValueError:
            pass
    return valid
