"""Update contact field: set a contact field or custom field."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django import forms
from django.core.exceptions import ValidationError

from automation.actions.base import Action as BaseAction
from automation.actions.base import ActionConfigForm, ActionError
from portal.services import contact_save

STANDARD = ("name", "email", "phone", "stripe_customer_id")


class ConfigForm(ActionConfigForm):
    variable_fields = ("value",)

    field = forms.RegexField(
        regex=r"^(name|email|phone|stripe_customer_id|custom\.[a-z][a-z0-9_]{0,39})$",
        help_text="name, email, phone, stripe_customer_id, or custom.<name> (e.g. custom.status)",
        error_messages={"invalid": "Use name, email, phone, stripe_customer_id or custom.<name>."},
    )
    value = forms.CharField(required=False)


@dataclass
class Output:
    field: str
    value: str


class Action(BaseAction):
    key = "update_contact"
    label = "Update contact field"
    description = "Set a field of the run's contact."
    config_form = ConfigForm
    Output = Output
    local = True

    @classmethod
    def execute(cls, inputs, ctx):
        if ctx.contact is None:
            raise ActionError("VALIDATION_ERROR", "This run has no contact to update.")
        field, value = (
            str(inputs.get("field")),
            "" if inputs.get("value") is None else str(inputs["value"]),
        )
        if ctx.test_run:
            return asdict(Output(field, value))
        changes = {}
        if field in STANDARD:
            changes[field] = value
        elif field.startswith("custom."):
            changes["custom_fields"] = {**ctx.contact.custom_fields, field[7:]: value}
        else:
            raise ActionError("VALIDATION_ERROR", f"{field!r} is not a contact field.")
        try:
            contact_save(workspace=ctx.workspace, contact=ctx.contact, **changes)
        except ValidationError as error:
            raise ActionError("VALIDATION_ERROR", " ".join(error.messages)) from None
        return asdict(Output(field, value))
