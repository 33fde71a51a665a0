"""Stripe create payment intent (TaskJuice's action): starts a payment flow."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django import forms

from automation.actions import fields
from automation.actions.base import Action as BaseAction
from automation.actions.stripe_common import connection_for, credentials, dry_run, stripe_errors
from integrations.gateway.payments import payment_intent_create


class ConfigForm(fields.AmountConfigForm):
    variable_fields = ("amount", "customer", "description", "receipt_email")

    customer = forms.CharField(required=False, help_text="Optional Stripe customer ID (cus_…).")
    description = forms.CharField(required=False)
    receipt_email = forms.CharField(required=False)
    automatic_payment_methods_enabled = forms.BooleanField(required=False, initial=True)


@dataclass
class Output:
    id: str
    object: str
    amount: int
    currency: str
    status: str
    client_secret: str
    customer: str
    created: int


class Action(BaseAction):
    key = "stripe_create_payment_intent"
    label = "Stripe create payment intent"
    description = "Create a PaymentIntent (a payment the customer completes later)."
    config_form = ConfigForm
    Output = Output
    uses_stripe = True

    @classmethod
    def execute(cls, inputs, ctx):
        connection = connection_for(inputs, ctx)
        amount, currency = fields.charge_amount(inputs, ctx)
        if dry_run(connection, ctx):
            return asdict(
                Output(
                    "(test run: not sent)",
                    "payment_intent",
                    amount,
                    currency,
                    "not_sent",
                    "",
                    inputs.get("customer") or "",
                    0,
                )
            )
        with stripe_errors():
            intent = payment_intent_create(
                credentials(connection),
                amount=amount,
                currency=currency,
                customer=str(inputs.get("customer") or ""),
                description=str(inputs.get("description") or ""),
                receipt_email=str(inputs.get("receipt_email") or ""),
                automatic_payment_methods=bool(inputs.get("automatic_payment_methods_enabled")),
                metadata={"portal_run": str(ctx.run.uuid), "portal_step": ctx.step_key},
                idempotency_key=ctx.idempotency_key,
            )
        return asdict(
            Output(
                intent.id,
                "payment_intent",
                intent.amount,
                intent.currency,
                intent.status,
                intent.client_secret,
                intent.customer or "",
                intent.created,
            )
        )
