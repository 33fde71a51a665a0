"""Config form fields shared by actions: the Stripe connection, amounts, currencies."""

from __future__ import annotations

from django import forms

from automation.actions import safety
from automation.actions.base import ActionConfigForm, ActionError
from automation.variables import VARIABLE
from portal.money import CURRENCIES, check_chargeable, parse_amount

CURRENCY_CHOICES = [(c.lower(), c) for c in CURRENCIES]


def is_variable(text: str) -> bool:
    return bool(VARIABLE.search(text or ""))


def connection_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label="Integration", help_text="Which of the workspace's Stripe accounts to use."
    )


def setup_connection_choices(form: forms.Form, workspace) -> None:
    """Fill the Integration dropdown; the default connection is preselected."""
    connections = list(workspace.stripe_connections.all()) if workspace else []
    field = form.fields["connection"]
    field.choices = [
        (str(c.uuid), f"{c} {'(default)' if c.is_default else ''}") for c in connections
    ]
    default = next(
        (c for c in connections if c.is_default), connections[0] if connections else None
    )
    if default is not None and not form.is_bound:
        form.initial.setdefault("connection", str(default.uuid))


def currency_field() -> forms.ChoiceField:
    return forms.ChoiceField(choices=CURRENCY_CHOICES, initial="usd")


def clean_amount(form: forms.Form, field: str = "amount", currency_field: str = "currency"):
    """A typed amount becomes minor units of the chosen currency; a variable stays as written
    (it is read when the run reaches the step). Adds the error next to the field."""
    text = (form.cleaned_data.get(field) or "").strip()
    currency = form.cleaned_data.get(currency_field) or "usd"
    if not text or is_variable(text):
        return text
    try:
        minor = parse_amount(text, currency)
        check_chargeable(minor, currency)
    except ValueError as error:
        form.add_error(field, str(error))
        return None
    return minor


def amount_to_minor(raw, resolved, currency: str, *, variable_in_minor_units: bool = False) -> int:
    """The amount a step charges, in minor units, with a readable ValueError.

    `raw` is the amount as configured: an int was typed in the builder and stored in minor
    units; text is a variable, whose value is read in major units ("150", "49.99") unless the
    step says it is in minor units (Stripe's own amounts are).
    """
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    text = str(resolved).strip()
    if variable_in_minor_units:
        if not text.isdigit():
            raise ValueError(f"The amount {text!r} is not a whole number of minor units.")
        return int(text)
    return parse_amount(text, currency)


class StripeConfigForm(ActionConfigForm):
    """Settings of a Stripe action: which of the workspace's accounts it uses."""

    connection = connection_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        setup_connection_choices(self, self.workspace)


class AmountConfigForm(StripeConfigForm):
    """A Stripe action that moves an amount: typed in major units, or a variable."""

    amount = forms.CharField(help_text="e.g. 49.99, or a variable such as a lead value.")
    amount_in_minor_units = forms.BooleanField(
        required=False, label="The variable's value is in the smallest unit (cents)"
    )
    currency = currency_field()

    def clean(self):
        data = super().clean()
        data["amount"] = clean_amount(self)
        return data


def charge_amount(inputs: dict, ctx) -> tuple[int, str]:
    """(minor units, currency) of the step's amount, checked against Stripe's bounds and the
    workflow's safety settings; ActionError VALIDATION_ERROR before any Stripe call."""
    currency = (inputs.get("currency") or "usd").lower()
    try:
        amount = amount_to_minor(
            ctx.config.get("amount"),
            inputs.get("amount"),
            currency,
            variable_in_minor_units=bool(inputs.get("amount_in_minor_units")),
        )
        check_chargeable(amount, currency)
    except ValueError as error:
        raise ActionError("VALIDATION_ERROR", str(error)) from None
    safety.check(amount, currency, ctx)
    return amount, currency
