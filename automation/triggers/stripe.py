"""One trigger per Stripe object family; the specific event type is in `trigger.type`.

Its events come through the connection's webhook endpoint (registered once for the account),
or through an endpoint of the trigger's own, with its own URL and signing secret: the
TaskJuice page's "each webhook trigger asks for Stripe's webhook signing secret". The secret
lives encrypted on the endpoint row (integrations), never in the workflow's definition.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import cached_property

from django import forms
from django.core.exceptions import ValidationError

from automation.triggers.base import Trigger, TriggerConfigForm
from integrations.forms import signing_secret_clean
from integrations.models import StripeConnection, WebhookEndpoint
from integrations.selectors import webhook_endpoint_usage
from integrations.services import (
    webhook_endpoint_ensure,
    webhook_endpoint_register,
    webhook_endpoint_url,
    webhook_events_for,
    webhook_secret_set,
)
from portal import perms

SHARED, OWN = "connection", "own"


def trigger_endpoint_key(workflow) -> str:
    """The `trigger_key` of a workflow's own endpoint (automation.receivers routes by it)."""
    return f"workflow:{workflow.uuid}"


@dataclass(frozen=True)
class EndpointInfo:
    """What the trigger panel shows about the endpoint, as saved (never the secret)."""

    own: bool  # the saved trigger uses its own endpoint
    connection: StripeConnection | None
    url: str  # "" until the trigger is saved with its own endpoint
    has_secret: bool
    stripe_endpoint_id: str
    used: int | None  # of the account's webhook endpoints; None: not known
    limit: int
    can_register: bool


class StripeTriggerForm(TriggerConfigForm):
    panel_template = "automation/workflows/_trigger_stripe.html"

    connection = forms.ChoiceField(
        label="Integration",
        required=False,
        help_text="Which Stripe account's events start this workflow (blank: any of them).",
    )
    endpoint = forms.ChoiceField(
        label="Webhook endpoint",
        required=False,
        initial=SHARED,
        widget=forms.RadioSelect,
        choices=[
            (SHARED, "Use the connection's endpoint (default, registered once)"),
            (OWN, "This trigger's own endpoint"),
        ],
        help_text="Where Stripe sends the events that start this workflow. Its own endpoint "
        "has a URL and a signing secret of its own.",
    )
    signing_secret = forms.CharField(
        label="Signing secret",
        required=False,
        widget=forms.PasswordInput(
            render_value=False, attrs={"autocomplete": "off", "spellcheck": "false"}
        ),
        help_text="whsec_…, under Developers → Webhooks → this endpoint → Signing secret. It "
        "checks that events sent to this trigger's URL come from Stripe. Not the secret key "
        "(sk_…): that one is on the connection and calls Stripe.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "Any connected account")]
        if self.workspace is not None:
            choices += [(str(c.uuid), str(c)) for c in self.workspace.stripe_connections.all()]
        self.fields["connection"].choices = choices
        # The "Register with Stripe" button of the panel, submitted with the form.
        self.register = self.is_bound and self.data.get("endpoint_action") == "register"

    def clean_signing_secret(self) -> str:
        value = self.cleaned_data["signing_secret"].strip()
        return signing_secret_clean(value) if value else ""

    def clean(self):
        data = super().clean()
        own = data.get("endpoint") == OWN
        if own and "connection" in data and not data["connection"]:
            self.add_error(
                "connection",
                "Choose the Stripe account: a trigger's own endpoint belongs to one account.",
            )
        if data.get("signing_secret") and not own:
            self.add_error(
                "signing_secret",
                "A signing secret here needs “This trigger's own endpoint”. The connection's "
                "endpoint keeps its secret on the connection's Webhooks page.",
            )
        if self.register and not own:
            self.add_error("endpoint", "Choose “This trigger's own endpoint” to register it.")
        if self.register and perms.STRIPE_ALL not in self.member_perms:
            self.add_error(
                None,
                "Registering an endpoint in the client's Stripe account needs the permission to "
                "manage Stripe. Create the endpoint in Stripe and paste its signing secret.",
            )
        return data

    def to_config(self) -> dict:
        config = {"connection": self.cleaned_data.get("connection") or ""}
        if self.cleaned_data.get("endpoint") == OWN:
            config["endpoint"] = OWN
        return config

    @cached_property
    def endpoint_info(self) -> EndpointInfo | None:
        """The saved trigger's endpoint (from `initial`, the stored config)."""
        if self.workspace is None or self.workflow is None:
            return None
        saved = self.initial or {}
        connection = self.workspace.stripe_connections.filter(
            uuid=_uuid_or_none(saved.get("connection"))
        ).first()
        own = saved.get("endpoint") == OWN
        endpoint = None
        if own and connection is not None:
            endpoint = WebhookEndpoint.objects.filter(
                connection=connection, trigger_key=trigger_endpoint_key(self.workflow)
            ).first()
        usage = webhook_endpoint_usage(connection) if connection is not None else None
        return EndpointInfo(
            own=own,
            connection=connection,
            url=webhook_endpoint_url(endpoint) if endpoint else "",
            has_secret=bool(endpoint and endpoint.has_secret),
            stripe_endpoint_id=endpoint.stripe_endpoint_id if endpoint else "",
            used=usage.used if usage else None,
            limit=usage.limit if usage else 16,
            can_register=perms.STRIPE_ALL in self.member_perms,
        )


def _uuid_or_none(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


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
        """Its family, from the chosen account; with its own endpoint, only events that came
        through that endpoint (verified with its secret), not the connection's."""
        wanted = config.get("connection")
        if config.get("endpoint") == OWN and trigger.get("_endpoint") != "trigger":
            return False
        return cls.family(trigger.get("type", "")) and (
            not wanted or wanted == trigger.get("_connection")
        )

    @classmethod
    def config_saved(cls, *, workflow, form: StripeTriggerForm) -> str | None:
        """With its own endpoint: make the endpoint row (its URL), keep a pasted signing
        secret, and register it with Stripe when asked. The panel stays open to show them."""
        data = form.cleaned_data
        if data.get("endpoint") != OWN:
            return None
        connection = form.workspace.stripe_connections.get(uuid=data["connection"])
        where = {
            "connection": connection,
            "trigger_key": trigger_endpoint_key(workflow),
            "enabled_events": webhook_events_for(cls.prefix),
        }
        said = []
        try:
            if data.get("signing_secret"):
                endpoint = webhook_secret_set(secret=data["signing_secret"], **where)
                said.append("The signing secret is saved.")
            else:
                endpoint = webhook_endpoint_ensure(**where)
        except ValidationError as error:  # checked by the form already; never the value
            raise ValidationError(error.messages) from None
        if form.register:
            try:
                endpoint = webhook_endpoint_register(**where)
            except ValidationError as error:
                raise ValidationError(
                    "The trigger is saved, but its endpoint is not registered: "
                    + " ".join(error.messages)
                ) from None
            said.append("Its endpoint is registered in Stripe and Stripe's signing secret kept.")
        if not endpoint.has_secret:
            said.append(
                "Its own endpoint has no signing secret yet: Stripe's deliveries to it are "
                "refused until you paste one (or register it with Stripe)."
            )
        return " ".join(said) or "It uses its own endpoint."

    @classmethod
    def publish_problems(cls, config: dict, workflow) -> list[str]:
        """Its own endpoint needs its signing secret: without it every delivery is refused,
        and the published workflow would silently never start."""
        if config.get("endpoint") != OWN:
            return []
        endpoint = WebhookEndpoint.objects.filter(
            connection__workspace=workflow.workspace,
            connection__uuid=_uuid_or_none(config.get("connection")),
            trigger_key=trigger_endpoint_key(workflow),
        ).first()
        if endpoint is not None and endpoint.has_secret:
            return []
        return [
            "The trigger's own webhook endpoint has no signing secret yet: paste it in the "
            "trigger panel (or register the endpoint with Stripe), or use the connection's "
            "endpoint. Until then Stripe's deliveries to it are refused."
        ]

    @classmethod
    def describe(cls, config: dict, workspace) -> str:
        if config.get("endpoint") == OWN:
            return f"{cls.label}: its own webhook endpoint"
        return cls.label

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
