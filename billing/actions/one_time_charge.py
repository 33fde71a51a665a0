"""Stripe one-time charge: charge the customer's default saved card, off-session."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django import forms

from automation.actions import fields
from automation.actions.base import Action as BaseAction
from automation.actions.base import ActionError
from automation.actions.stripe_common import connection_for, credentials, dry_run, stripe_errors
from automation.selectors import run_appointments
from billing.models import Payment
from billing.services.charges import ChargeError, charge_off_session
from billing.services.links import payment_link_for_step
from integrations.gateway.customers import cards_list


class ConfigForm(fields.AmountConfigForm):
    variable_fields = ("customer_id", "description", "amount")
    field_order = ["connection", "customer_id", "description", "amount"]

    customer_id = forms.CharField(
        label="Customer ID",
        initial="{{ contact.stripe_customer_id }}",
        help_text="The Stripe customer to charge (cus_…); their default saved card is used.",
    )
    description = forms.CharField(required=False, help_text="Shown in Stripe with the payment.")
    send_link_when_declined = forms.BooleanField(
        required=False,
        label="If the card needs the customer, e-mail them a payment link instead",
    )


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
        with stripe_errors():
            cards = cards_list(credentials(connection), customer_id=customer)
        description = str(inputs.get("description") or "")
        # The payer is the customer's own contact: in pay per lead the run's contact is the
        # lead, who must neither appear as the payer nor be sent the client's payment link.
        payer = _customer_contact(ctx, customer)
        if not cards:
            _needs_customer(
                inputs,
                ctx,
                payer,
                amount,
                currency,
                description,
                "The customer has no saved card to charge",
            )
        if dry_run(connection, ctx):
            return asdict(
                Output("(test run: not sent)", "not_sent", amount, currency, customer, "")
            )
        try:
            with stripe_errors():
                payment = charge_off_session(
                    workspace=ctx.workspace,
                    connection=connection,
                    contact=payer,
                    customer_id=customer,
                    payment_method_id=cards[0].id,
                    amount=amount,
                    currency=currency,
                    description=description,
                    idempotency_key=ctx.idempotency_key,
                    source=Payment.Source.WORKFLOW,
                    origin=ctx.idempotency_key,
                    actor=ctx.actor,
                    # A run started by a booking charges for it: the appointment shows it.
                    appointments=run_appointments(ctx.run),
                )
        except ChargeError as declined:
            if declined.needs_customer:
                _needs_customer(
                    inputs,
                    ctx,
                    payer,
                    amount,
                    currency,
                    description,
                    "The card needs the customer to authenticate",
                )
            message = f"{declined.error.message} ({declined.code})"
            # A 400 (amount_too_small after conversion, say) is a value to change, not a decline.
            refused = declined.error.code == "VALIDATION_ERROR"
            raise ActionError(
                "VALIDATION_ERROR" if refused else "PAYMENT_REQUIRED", message
            ) from None
        return asdict(
            Output(
                payment.stripe_payment_intent_id,
                payment.status,
                payment.amount,
                payment.currency,
                customer,
                payment.stripe_charge_id,
            )
        )


def _customer_contact(ctx, customer: str):
    """The workspace's contact whose Stripe customer this is (None if none is)."""
    if ctx.contact is not None and ctx.contact.stripe_customer_id == customer:
        return ctx.contact
    return ctx.workspace.contacts.filter(stripe_customer_id=customer).first()


def _needs_customer(inputs, ctx, payer, amount, currency, description, reason: str):
    """Stop with the reason; when the step says so, e-mail the customer a payment link."""
    if inputs.get("send_link_when_declined") and payer is not None and not ctx.test_run:
        link = payment_link_for_step(
            workspace=ctx.workspace,
            contact=payer,
            amount=amount,
            currency=currency,
            description=description,
            origin=ctx.idempotency_key,
            appointments=run_appointments(ctx.run),
            actor=ctx.actor,
        )
        raise ActionError(
            "PAYMENT_REQUIRED", f"{reason}; a payment link was e-mailed to {link.contact.email}."
        )
    raise ActionError("PAYMENT_REQUIRED", f"{reason}; send a payment link.")
