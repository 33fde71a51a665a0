"""Stripe create customer: every field of the Catalytic action; the ID lands on the contact.

Each field goes where Stripe's create takes it today: `source` on create, `default_source` by an
update after it (the gateway's), the VAT ID as a tax ID of the chosen type. Stripe no longer takes
a coupon on a customer (API 2025-03-31.basil: discounts belong to subscriptions and invoices),
so the coupon is kept in the customer's metadata for the step that bills them."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django import forms
from django.core.validators import validate_email

from automation.actions import fields
from automation.actions.base import Action as BaseAction
from automation.actions.base import ActionError
from automation.actions.stripe_common import connection_for, credentials, dry_run, stripe_errors
from integrations.gateway.customers import TAX_ID_TYPES, customer_create
from portal.services import contact_save

TEXT = (
    "name",
    "phone",
    "email",
    "description",
    "business_vat_id",
    "source",
    "default_source",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "zip",
    "country",
    "coupon",
)


ADDRESS = (
    ("line1", "address_line1"),
    ("line2", "address_line2"),
    ("city", "city"),
    ("state", "state"),
    ("postal_code", "zip"),
    ("country", "country"),
)


class ConfigForm(fields.StripeConfigForm):
    variable_fields = TEXT + ("account_balance",)

    name = forms.CharField(required=False, initial="{{ contact.name }}")
    phone = forms.CharField(required=False, initial="{{ contact.phone }}")
    email = forms.CharField(required=False, label="E-mail", initial="{{ contact.email }}")
    description = forms.CharField(required=False)
    account_balance = forms.CharField(
        required=False,
        help_text="In cents (minor units). Negative is a credit used before charging the card.",
    )
    business_vat_id = forms.CharField(required=False, label="Business VAT ID")
    tax_id_type = forms.ChoiceField(
        required=False,
        label="Tax ID type",
        choices=[("", "---------")] + [(t, t) for t in TAX_ID_TYPES],
        initial="eu_vat",
        help_text="Stripe's type of the Business VAT ID, e.g. eu_vat, gb_vat, us_ein.",
    )
    source = forms.CharField(
        required=False,
        label="Source ID",
        help_text="A card token or source (tok_…, src_…); it becomes the default source.",
    )
    default_source = forms.CharField(
        required=False,
        help_text="One of the customer's sources (card_…); set right after creating them.",
    )
    address_line1 = forms.CharField(required=False, label="Shipping address line 1")
    address_line2 = forms.CharField(required=False, label="Shipping address line 2")
    city = forms.CharField(required=False)
    state = forms.CharField(required=False)
    zip = forms.CharField(required=False, label="ZIP")
    country = forms.CharField(required=False)
    coupon = forms.CharField(
        required=False,
        help_text="Stripe no longer applies coupons to customers; it is kept in their "
        "metadata as coupon, for the subscription or invoice that applies it.",
    )

    def clean_email(self):
        value = (self.cleaned_data.get("email") or "").strip()
        if value and not fields.is_variable(value):
            try:
                validate_email(value)
            except forms.ValidationError:
                raise forms.ValidationError(
                    "Enter an e-mail address like jane@example.com, or a variable."
                ) from None
        return value

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("business_vat_id") and not cleaned.get("tax_id_type"):
            self.add_error("tax_id_type", "Choose the type of the Business VAT ID.")
        return cleaned

    def clean_account_balance(self):
        value = (self.cleaned_data.get("account_balance") or "").strip()
        if value and not fields.is_variable(value) and not value.lstrip("-").isdigit():
            raise forms.ValidationError("A whole number of cents, e.g. -500 for a $5.00 credit.")
        return value


@dataclass
class Output:
    id: str
    object: str
    email: str | None
    name: str | None
    created: int


def _params(inputs: dict) -> dict:
    params: dict = {
        "phone": inputs.get("phone"),
        "description": inputs.get("description"),
        "source": inputs.get("source"),
        "default_source": inputs.get("default_source"),
    }
    balance = str(inputs.get("account_balance") or "").strip()
    if balance:
        if not balance.lstrip("-").isdigit():
            raise ActionError(
                "VALIDATION_ERROR", f"Account balance {balance!r} is not whole cents."
            )
        params["balance"] = int(balance)
    if inputs.get("business_vat_id"):
        # Steps saved before the type could be chosen meant an EU VAT number.
        kind = inputs.get("tax_id_type") or "eu_vat"
        params["tax_id_data"] = [{"type": kind, "value": inputs["business_vat_id"]}]
    address = {stripe_name: inputs.get(ours) for stripe_name, ours in ADDRESS}
    if any(address.values()):
        params["shipping"] = {"name": inputs.get("name") or "", "address": address}
    return params


class Action(BaseAction):
    key = "stripe_create_customer"
    label = "Stripe create customer"
    description = "Create a customer in Stripe and keep its ID on the contact."
    config_form = ConfigForm
    Output = Output
    uses_stripe = True

    @classmethod
    def execute(cls, inputs, ctx):
        connection = connection_for(inputs, ctx)
        params = _params(inputs)
        name, email = str(inputs.get("name") or ""), str(inputs.get("email") or "")
        if dry_run(connection, ctx):
            return asdict(
                Output("(test run: not sent)", "customer", email or None, name or None, 0)
            )
        metadata = {"portal_run": str(ctx.run.uuid)}
        if inputs.get("coupon"):
            metadata["coupon"] = str(inputs["coupon"])
        with stripe_errors():
            customer = customer_create(
                credentials(connection),
                name=name,
                email=email,
                idempotency_key=ctx.idempotency_key,
                metadata=metadata,
                **params,
            )
        if ctx.contact is not None and not ctx.test_run:
            contact_save(
                workspace=ctx.workspace, contact=ctx.contact, stripe_customer_id=customer.id
            )
        return asdict(
            Output(
                customer.id,
                "customer",
                customer.email or None,
                customer.name or None,
                customer.created,
            )
        )
