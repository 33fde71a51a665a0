"""Stripe refund: all or part of a charge or a PaymentIntent."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django import forms

from automation.actions import fields
from automation.actions.base import Action as BaseAction
from automation.actions.base import ActionError
from automation.actions.stripe_common import connection_for, credentials, dry_run, stripe_errors
from integrations.gateway.payments import refund_create
from portal.audit import audit_record
from portal.models import AuditEntry
from portal.money import format_amount


class ConfigForm(fields.AmountConfigForm):
    variable_fields = ("payment", "amount")
    field_order = ["connection", "payment", "amount"]

    payment = forms.CharField(
        label="Charge or PaymentIntent ID", help_text="ch_… or pi_…, or a variable."
    )
    reason = forms.ChoiceField(
        required=False,
        choices=[
            ("", "—"),
            ("requested_by_customer", "Requested by customer"),
            ("duplicate", "Duplicate"),
            ("fraudulent", "Fraudulent"),
        ],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["amount"].required = False
        self.fields["amount"].help_text = "Blank refunds everything left."


@dataclass
class Output:
    id: str
    amount: int
    currency: str
    status: str
    charge: str
    payment_intent: str


class Action(BaseAction):
    key = "stripe_refund"
    label = "Stripe refund"
    description = "Refund a charge or payment intent, in full or in part."
    config_form = ConfigForm
    Output = Output
    uses_stripe = True

    @classmethod
    def execute(cls, inputs, ctx):
        connection = connection_for(inputs, ctx)
        target = str(inputs.get("payment") or "").strip()
        if not target.startswith(("ch_", "pi_", "py_")):
            raise ActionError(
                "VALIDATION_ERROR", f"{target!r} is not a charge or PaymentIntent ID."
            )
        amount = None
        if inputs.get("amount") not in ("", None):
            try:
                amount = fields.amount_to_minor(
                    ctx.config.get("amount"),
                    inputs["amount"],
                    inputs.get("currency") or "usd",
                    variable_in_minor_units=bool(inputs.get("amount_in_minor_units")),
                )
            except ValueError as error:
                raise ActionError("VALIDATION_ERROR", str(error)) from None
        key = "payment_intent" if target.startswith("pi_") else "charge"
        if dry_run(connection, ctx):
            return asdict(Output("(test run: not sent)", amount or 0, "", "not_sent", "", ""))
        with stripe_errors():
            refund = refund_create(
                credentials(connection),
                amount=amount,
                reason=inputs.get("reason") or "",
                idempotency_key=ctx.idempotency_key,
                **{key: target},
            )
        _audit(ctx, refund, target)
        return asdict(
            Output(
                refund.id,
                refund.amount,
                refund.currency,
                refund.status,
                refund.charge,
                refund.payment_intent,
            )
        )


def _audit(ctx, refund, target: str) -> None:
    """The refund in the audit trail, by the workflow: Stripe made it (this step runs once)."""
    amount = format_amount(refund.amount, refund.currency or "usd")
    audit_record(
        workspace=ctx.workspace,
        actor=ctx.actor,
        address=None,
        action=AuditEntry.Action.PAYMENT_REFUND,
        summary=f"Refunded {amount} of {target} ({refund.id})",
        changes={"refunded": {"before": None, "after": amount}},
    )
