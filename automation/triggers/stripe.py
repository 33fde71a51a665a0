"""One trigger per Stripe object family; the specific event type is in `trigger.type`."""

from __future__ import annotations

from django import forms

from automation.triggers.base import Trigger, TriggerConfigForm


class StripeTriggerForm(TriggerConfigForm):
    connection = forms.ChoiceField(
        label="Integration",
        required=False,
        help_text="Which Stripe account's events start this workflow (blank: any of them).",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "Any connected account")]
        if self.workspace is not None:
            choices += [(str(c.uuid), str(c)) for c in self.workspace.stripe_connections.all()]
        self.fields["connection"].choices = choices

    def to_config(self) -> dict:
        return {"connection": self.cleaned_data.get("connection") or ""}


class StripeEventTrigger(Trigger):
    prefix = ""
    config_form = StripeTriggerForm
    has_contact = True
    outputs = [
        "id",
        "type",
        "api_version",
        "created",
        "livemode",
        "data.object.id",
        "data.object.amount",
        "data.object.currency",
        "data.object.customer",
        "data.object.status",
        "request.id",
    ]

    @classmethod
    def family(cls, event_type: str) -> bool:
        return event_type.startswith(cls.prefix)

    @classmethod
    def matches(cls, config: dict, trigger: dict) -> bool:
        wanted = config.get("connection")
        return cls.family(trigger.get("type", "")) and (
            not wanted or wanted == trigger.get("_connection")
        )

    @classmethod
    def sample(cls, workspace) -> dict:
        obj = {"id": "ch_sample", "object": "charge", "amount": 4999, "currency": "usd",
               "customer": "cus_sample", "status": "succeeded"}  # fmt: skip
        return {
            "id": "evt_sample",
            "type": f"{cls.prefix}succeeded",
            "api_version": "2026-10-28.endive",
            "created": 0,
            "livemode": False,
            "data": {"object": obj},
            "request": {"id": None, "idempotency_key": None},
        }


class PaymentEvent(StripeEventTrigger):
    key, label, prefix = "stripe_payment_event", "Stripe payment event", "payment_intent."


class ChargeEvent(StripeEventTrigger):
    key, label, prefix = "stripe_charge_event", "Stripe charge event", "charge."


class CustomerEvent(StripeEventTrigger):
    key, label, prefix = "stripe_customer_event", "Stripe customer event", "customer."
