"""The builder's own forms (the trigger's and actions' settings forms live on their classes)."""

from __future__ import annotations

from django import forms

from automation import registry
from automation.definition import BRANCHES
from automation.models import Run
from portal.money import CURRENCIES, format_amount, parse_amount


class WorkflowNameForm(forms.Form):
    name = forms.CharField(max_length=120, label="Workflow name")


class TriggerTypeForm(forms.Form):
    type = forms.ChoiceField(label="Trigger")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = [(k, label) for k, (label, _) in registry.TRIGGERS.items()]


class StepAddForm(forms.Form):
    """Where a new step goes: `branch` is "<if/else key>:then|else"; `after` a step key ("" =
    first in its list)."""

    type = forms.ChoiceField()
    branch = forms.CharField(required=False)
    after = forms.CharField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = [(k, label) for k, (label, _) in registry.ACTIONS.items()]

    def clean_branch(self) -> tuple[str, str] | None:
        value = self.cleaned_data["branch"].strip()
        if not value:
            return None
        key, _, side = value.rpartition(":")
        if not key or side not in BRANCHES:
            raise forms.ValidationError("Not a branch.")
        return key, side

    def clean_after(self) -> str | None:
        # Absent: append at the end; "" (the "+" right below the trigger): first.
        return self.cleaned_data["after"] if "after" in self.data else None


class StepNameForm(forms.Form):
    """The step's name; prefixed ("step-name") so an action may have a field called name."""

    name = forms.CharField(max_length=120, label="Action name")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "step")
        super().__init__(*args, **kwargs)


class StepMoveForm(forms.Form):
    direction = forms.ChoiceField(choices=[("up", "Up"), ("down", "Down")])


class PublishForm(forms.Form):
    published = forms.BooleanField(required=False)


class SafetySettingsForm(forms.Form):
    """Safety limits typed in major units of the chosen currency; blank means no limit."""

    safety_currency = forms.ChoiceField(
        label="Currency of the limits", choices=[(c.lower(), c) for c in CURRENCIES]
    )
    max_amount_per_charge = forms.CharField(
        required=False,
        label="Largest single charge",
        help_text="A charge above this fails instead of reaching Stripe. Blank: no limit.",
    )
    max_amount_per_day = forms.CharField(
        required=False,
        label="Most charged per day",
        help_text="By this workflow, over all contacts. Blank: no limit.",
    )
    allow_reentry = forms.BooleanField(
        required=False, label="A contact may go through this workflow more than once"
    )

    @classmethod
    def for_workflow(cls, workflow, data=None):
        def major(minor):
            if minor is None:
                return ""
            return format_amount(minor, workflow.safety_currency, with_code=False)

        initial = {
            "safety_currency": workflow.safety_currency,
            "max_amount_per_charge": major(workflow.max_amount_per_charge),
            "max_amount_per_day": major(workflow.max_amount_per_day),
            "allow_reentry": workflow.allow_reentry,
        }
        return cls(data, initial=initial)

    def clean(self):
        data = super().clean()
        currency = data.get("safety_currency") or "usd"
        for name in ("max_amount_per_charge", "max_amount_per_day"):
            text = (data.get(name) or "").strip()
            if not text:
                data[name] = None
                continue
            try:
                data[name] = parse_amount(text, currency)
            except ValueError as error:
                self.add_error(name, str(error))
                continue
            if data[name] <= 0:
                self.add_error(name, "Enter an amount above zero, or leave it blank.")
        per_charge, per_day = data.get("max_amount_per_charge"), data.get("max_amount_per_day")
        if per_charge and per_day and per_charge > per_day:
            self.add_error(
                "max_amount_per_day", "This is below the largest single charge: no charge fits."
            )
        return data


class TestRunForm(forms.Form):
    contact = forms.ModelChoiceField(
        queryset=None,
        required=False,
        to_field_name="uuid",
        empty_label="No contact",
        help_text="Whose details fill {{ contact.* }} variables.",
    )

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = workspace.contacts.all()


TestRunForm.__test__ = False  # not a test class


class RunFilterForm(forms.Form):
    """The enrollment history's filters; `triggers` are the (event type, label) pairs its runs
    were started by. Dates are days in the viewer's zone."""

    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *Run.Status.choices])
    trigger = forms.ChoiceField(required=False, label="Trigger")
    since = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )
    contact = forms.CharField(required=False, label="Contact", max_length=200)

    def __init__(self, *args, triggers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["trigger"].choices = [("", "Any trigger"), *triggers]

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error("until", "The end of the period must be on or after its start.")
        return data
