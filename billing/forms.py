"""Forms of the billing pages: validation and coercion to plain values (minor units, ids).

Every form that takes money carries `attempt`, a UUID made when the form is rendered: a double
click or a resubmitted form is the same attempt, so the services charge (or refund) once.
"""

from __future__ import annotations

import uuid
import zoneinfo
from collections.abc import Iterable
from datetime import timedelta

from django import forms
from django.utils import timezone

from automation.models import Appointment
from billing.models import Payment, PaymentLink
from portal.models import Workspace
from portal.money import (
    CURRENCIES,
    DEFAULT_LOCALE,
    check_chargeable,
    format_amount,
    parse_amount,
)

CURRENCY_CHOICES = [(code, code) for code in CURRENCIES]


class AttemptForm(forms.Form):
    attempt = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("attempt", uuid.uuid4())
        super().__init__(*args, **kwargs)


class ChargeForm(AttemptForm):
    """Amount, currency and description; `cleaned_data["minor"]` is the amount in minor units."""

    amount = forms.CharField(max_length=20, widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    currency = forms.ChoiceField(choices=CURRENCY_CHOICES)
    description = forms.CharField(max_length=500, required=False)
    # Shown only when the same amount was charged to the customer moments ago (a page
    # restored by Back, sent again with a fresh token): a second charge must be meant.
    repeat = forms.BooleanField(
        required=False, label="Yes, charge again: this is a second, separate charge"
    )

    def clean(self):
        data = super().clean()
        if data.get("amount") and data.get("currency"):
            try:
                data["minor"] = parse_amount(data["amount"], data["currency"])
                check_chargeable(data["minor"], data["currency"])
            except ValueError as error:
                self.add_error("amount", str(error))
        return data


class CardOnFileForm(ChargeForm):
    payment_method = forms.ChoiceField(label="Card", widget=forms.RadioSelect)
    # Set by the confirmation step ("Charge 49.99 USD to Visa •••• 4242?").
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    field_order = ["payment_method", "amount", "currency", "description"]

    def __init__(self, *args, cards=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.cards = {card.id: card for card in cards}
        self.fields["payment_method"].choices = [
            (card.id, card_label(card)) for card in self.cards.values()
        ]
        if self.cards and not self.initial.get("payment_method"):
            self.initial["payment_method"] = next(iter(self.cards))

    @property
    def card(self):
        return self.cards.get(self.cleaned_data.get("payment_method", ""))


def card_label(card) -> str:
    default = " (default)" if card.is_default else ""
    expiry = f"{card.exp_month:02d}/{card.exp_year}"
    return f"{card.brand.title()} •••• {card.last4}, expires {expiry}{default}"


class NewCardForm(ChargeForm):
    pass


class PaymentLinkForm(ChargeForm):
    """A link for the contact. Without an amount, the chosen bookings' total is used."""

    amount = forms.CharField(
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        help_text="Leave empty to charge the total of the bookings chosen above.",
    )
    appointments = forms.ModelMultipleChoiceField(
        label="Bookings",
        queryset=Appointment.objects.none(),
        to_field_name="uuid",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    expires_days = forms.IntegerField(
        label="Expires after (days)", min_value=1, max_value=90, initial=7
    )

    def __init__(self, *args, appointments=None, **kwargs):
        super().__init__(*args, **kwargs)
        if appointments is not None:
            self.fields["appointments"].queryset = appointments
        self.fields["appointments"].label_from_instance = booking_label
        self.fields["description"].required = True
        self.fields["repeat"].label = "Yes, send another link: this is a second, separate request"

    def clean(self):
        data = self.cleaned_data
        chosen = list(data.get("appointments") or [])
        if not data.get("amount") and chosen:
            currencies = {a.price_currency.upper() for a in chosen}
            if len(currencies) > 1:
                self.add_error("appointments", "These bookings are priced in different currencies.")
                return data
            data["currency"] = currencies.pop()
            data["amount"] = format_amount(sum(a.price_amount for a in chosen), data["currency"],
                                           with_code=False).replace(",", "")  # fmt: skip
        elif not data.get("amount"):
            self.add_error("amount", "Enter an amount, or choose bookings to charge their total.")
        return super().clean()

    @property
    def expires_in(self) -> timedelta:
        return timedelta(days=self.cleaned_data["expires_days"])


def booking_label(appointment: Appointment) -> str:
    price = format_amount(appointment.price_amount, appointment.price_currency)
    starts_at = timezone.localtime(appointment.starts_at)  # the viewer's zone, named
    return f"{appointment.calendar.name}, {starts_at:%Y-%m-%d %H:%M %Z}: {price}"


class RefundForm(AttemptForm):
    REASONS = [
        ("requested_by_customer", "Requested by the customer"),
        ("duplicate", "Duplicate"),
        ("fraudulent", "Fraudulent"),
        ("other", "Other"),
    ]
    amount = forms.CharField(max_length=20, widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    reason = forms.ChoiceField(choices=REASONS, initial="requested_by_customer")
    other_reason = forms.CharField(label="Other reason", max_length=200, required=False)
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, payment: Payment, **kwargs):
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault(
            "amount", format_amount(payment.refundable, payment.currency, with_code=False)
        )
        super().__init__(*args, **kwargs)
        self.payment = payment
        self.fields["amount"].help_text = f"In {payment.currency.upper()}."

    def clean(self):
        data = super().clean()
        if data.get("amount"):
            try:
                data["minor"] = parse_amount(data["amount"], self.payment.currency)
            except ValueError as error:
                self.add_error("amount", str(error))
        if data.get("reason") == "other" and not data.get("other_reason", "").strip():
            self.add_error("other_reason", "Say why, in a few words.")
        return data

    @property
    def reason_text(self) -> str:
        data = self.cleaned_data
        return data["other_reason"].strip() if data["reason"] == "other" else data["reason"]


class PaymentFilterForm(forms.Form):
    status = forms.ChoiceField(
        choices=[("", "Any status"), *Payment.Status.choices], required=False
    )
    source = forms.ChoiceField(
        choices=[("", "Any source"), *Payment.Source.choices], required=False
    )
    since = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    q = forms.CharField(label="Contact", max_length=100, required=False)
    currency = forms.ChoiceField(
        label="Chart currency", choices=[("", "Most used"), *CURRENCY_CHOICES], required=False
    )

    def __init__(self, *args, paid: Iterable[str] = (), **kwargs):
        """`paid`: the currencies the workspace was paid in. The chart's menu offers those
        (and one chosen by a link), not all of Stripe's 135; any of them is still accepted."""
        super().__init__(*args, **kwargs)
        offered = {code.upper() for code in paid} | {str(self.data.get("currency", "")).upper()}
        self.fields["currency"].widget.choices = [("", "Most used")] + [
            (code, label) for code, label in CURRENCY_CHOICES if code in offered
        ]


class LinkFilterForm(forms.Form):
    STATUSES = [("", "Any status"), *PaymentLink.Status.choices, ("expired", "Expired")]
    status = forms.ChoiceField(choices=STATUSES, required=False)


class WorkspaceSettingsForm(forms.ModelForm):
    time_zone = forms.ChoiceField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        zones = sorted(zoneinfo.available_timezones())
        self.fields["time_zone"].choices = [("", "Not set (first calendar's, else UTC)")] + [
            (zone, zone.replace("_", " ")) for zone in zones
        ]
        # A post without the field (an older page, a script) leaves the locale as it is.
        self.fields["locale"].required = False

    def clean_locale(self) -> str:
        return self.cleaned_data.get("locale") or self.instance.locale or DEFAULT_LOCALE

    class Meta:
        model = Workspace
        fields = ["notify_admins_of_payments", "require_two_factor", "time_zone", "locale"]
        labels = {
            "time_zone": "Time zone",
            "locale": "How amounts are written",
            "notify_admins_of_payments": "E-mail the owners when a customer pays",
            "require_two_factor": (
                "Require two-factor sign-in for members who can charge, manage Stripe or manage "
                "the workspace"
            ),
        }
        help_texts = {
            "locale": (
                "On this workspace's pages, its customers' pay and booking pages and its "
                "e-mails: the currency's sign and the separators (“$1,234.56”, "
                "“1.234,56\xa0€”). Amounts are still typed with a decimal point."
            ),
            "time_zone": (
                "The client's zone: a workflow's Wait counts days and reads times written "
                "without a zone in it. Blank: the zone of the first calendar, else UTC."
            ),
            "notify_admins_of_payments": "Owners get an e-mail for each payment by link or card.",
            "require_two_factor": (
                "They are asked to set it up (an authenticator app) before opening any page of "
                "this workspace, you too; members who can only view are not."
            ),
        }
