"""Send payment link: e-mail the contact a link to pay (with the trigger's bookings)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from automation.actions import fields
from automation.actions.base import Action as BaseAction
from automation.actions.base import ActionError
from automation.models import Appointment
from billing.services.links import payment_link_for_step
from integrations.gateway.errors import GatewayError


class ConfigForm(fields.AmountConfigForm):
    variable_fields = ("amount", "description")
    field_order = ["amount", "currency", "description", "include_trigger_booking"]

    description = forms.CharField(initial="Your booking")
    include_trigger_booking = forms.BooleanField(
        required=False,
        initial=True,
        label="Include the booking that started the run (it is marked Charged in Full when paid)",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["connection"]  # links use the workspace's default account


@dataclass
class Output:
    id: str
    url: str
    amount: int
    currency: str
    note: str = ""  # a test run: what it would have done


class Action(BaseAction):
    key = "send_payment_link"
    label = "Send payment link"
    description = "E-mail the contact a link to a page where they pay."
    config_form = ConfigForm
    Output = Output

    @classmethod
    def execute(cls, inputs, ctx):
        if ctx.contact is None or not ctx.contact.email:
            raise ActionError("VALIDATION_ERROR", "The run's contact has no e-mail address.")
        amount, currency = fields.charge_amount(inputs, ctx)
        bookings = []
        booking_id = (ctx.run.trigger.get("appointment") or {}).get("id")
        if inputs.get("include_trigger_booking") and booking_id:
            bookings = list(Appointment.objects.filter(workspace=ctx.workspace, uuid=booking_id))
        if ctx.test_run:  # no link, and above all no e-mail to the customer
            note = f"Test run: no link made; it would have been e-mailed to {ctx.contact.email}."
            return asdict(Output("(test run: not sent)", "", amount, currency, note))
        try:
            link = payment_link_for_step(
                workspace=ctx.workspace,
                contact=ctx.contact,
                amount=amount,
                currency=currency,
                description=str(inputs.get("description") or ""),
                origin=ctx.idempotency_key,
                appointments=bookings,
                actor=ctx.actor,
            )
        except ValidationError as error:
            raise ActionError("VALIDATION_ERROR", " ".join(error.messages)) from None
        except GatewayError as error:
            raise ActionError(error.code, error.message, retryable=error.retryable) from None
        url = settings.SITE_URL + link.get_absolute_url()
        return asdict(Output(str(link.uuid), url, link.amount, link.currency))
