"""Stripe one-time charge: charge the customer's default saved card, off-session."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django import forms

from automation.actions import fields
from automation.actions.base import Action as BaseAction
from automation.actions.base import ActionError
from automation.actions.stripe_common import connection_for, credentials, dry_run, stripe_errors
from integrations.gateway.customers import cards_list
from integrations.gateway.payments import payment_intent_create


class ConfigForm(fields.AmountConfigForm):
    variable_fields = ("customer_id", "description", "amount")
    field_order = ["connection", "customer_id", "description", "amount"]

    customer_id = forms.CharField(
        label="Customer ID",
        initial="{{ contact.stripe_customer_id }}",
        help_text="The Stripe customer to charge (cus_…); their default saved card is used.",
    )
    description = forms.CharField(required=False, help_text="Shown in Stripe with the payment.")


@dataclass
class Output:
    id: str
    status: str
    amount: int
    currency: str
    customer: str
    latest_charge: str


class Action(BaseAction):
    key = "stripe_one_time_charge"
    label = "Stripe one-time charge"
    description = "Charge a customer's saved card once."
    config_form = ConfigForm
    Output = Output
    uses_stripe = True

    @classmethod
    def execute(cls, inputs, ctx):
        connection = connection_for(inputs, ctx)
        amount, currency = fields.charge_amount(inputs, ctx)
        customer = str(inputs.get("customer_id") or "").strip()
        if not customer.startswith("cus_"):
            raise ActionError("VALIDATION_ERROR", "A Stripe customer ID (cus_…) is required.")
        creds = credentials(connection)
        with stripe_errors():
            cards = cards_list(creds, customer_id=customer)
        if not cards:
            raise ActionError(
                "PAYMENT_REQUIRED", "The customer has no saved card to charge; send a payment link."
            )
        request = {
            "amount": amount,
            "currency": currency,
            "customer": customer,
            "payment_method": cards[0].id,
            "description": inputs.get("description") or "",
        }
        if dry_run(connection, ctx):
            return asdict(
                Output("(test run: not sent)", "not_sent", amount, currency, customer, "")
            )
        with stripe_errors():
            intent = payment_intent_create(
                creds,
                **request,
                confirm=True,
                off_session=True,
                metadata={"portal_run": str(ctx.run.uuid), "portal_step": ctx.step_key},
                idempotency_key=ctx.idempotency_key,
            )
        return asdict(
            Output(
                intent.id,
                intent.status,
                intent.amount,
                intent.currency,
                intent.customer,
                intent.latest_charge,
            )
        )
