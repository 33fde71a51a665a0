"""Config form fields shared by actions: the Stripe connection, amounts, currencies."""

from __future__ import annotations

from django import forms

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
