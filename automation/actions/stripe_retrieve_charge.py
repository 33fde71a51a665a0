"""Stripe retrieve charge (TaskJuice's action): read a charge by its ID."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django import forms

from automation.actions import fields
from automation.actions.base import Action as BaseAction
from automation.actions.base import ActionError
from automation.actions.stripe_common import connection_for, credentials, stripe_errors
from integrations.gateway.payments import charge_retrieve


class ConfigForm(fields.StripeConfigForm):
    variable_fields = ("id",)

    id = forms.CharField(label="Charge ID", initial="{{ trigger.data.object.id }}")


@dataclass
class Output:
    id: str
    object: str
    amount: int
    currency: str
    status: str
    customer: str
    paid: bool
    refunded: bool


class Action(BaseAction):
    key = "stripe_retrieve_charge"
    label = "Stripe retrieve charge"
    description = "Read a charge (amount, status, refunded) by its ID."
    config_form = ConfigForm
    Output = Output
    uses_stripe = True

    @classmethod
    def execute(cls, inputs, ctx):
        connection = connection_for(inputs, ctx)
        charge_id = str(inputs.get("id") or "").strip()
        if not charge_id.startswith(("ch_", "py_")):
            raise ActionError("VALIDATION_ERROR", f"{charge_id!r} is not a charge ID (ch_…).")
        with stripe_errors():
            charge = charge_retrieve(credentials(connection), charge_id=charge_id)
        return asdict(
            Output(
                charge.id,
                "charge",
                charge.amount,
                charge.currency,
                charge.status,
                charge.customer,
                charge.paid,
                charge.refunded,
            )
        )
