"""Forms of the invoice pages: validation and coercion to plain values (minor units, rows).

Money is typed in major units and parsed with the invoice's currency (`parse_amount`), so
"1.999" for USD is refused next to the field before anything is saved or sent to Stripe.
"""

from __future__ import annotations

import uuid

from django import forms
from django.core.exceptions import ValidationError

from invoices.models import Invoice, ScopeType
from portal.money import (
    CURRENCIES,
    check_chargeable,
    check_payable_total,
    format_amount,
    parse_amount,
)

CURRENCY_CHOICES = [(code, code) for code in CURRENCIES]


class InvoiceForm(forms.Form):
    contact = forms.ModelChoiceField(label="Client", queryset=None, to_field_name="uuid")
    org_unit = forms.ModelChoiceField(
        label="Org unit", queryset=None, to_field_name="uuid", required=False
    )
    currency = forms.ChoiceField(choices=CURRENCY_CHOICES, initial="USD")
    due_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = workspace.contacts.order_by("name")
        self.fields["org_unit"].queryset = workspace.org_units.order_by("path")
        self.fields["org_unit"].label_from_instance = lambda unit: unit.path

    @staticmethod
    def initial_for(invoice: Invoice) -> dict:
        return {
            "contact": invoice.contact.uuid,
            "org_unit": invoice.org_unit.uuid if invoice.org_unit else None,
            "currency": invoice.currency.upper(),
            "due_date": invoice.due_date,
            "notes": invoice.notes,
        }


class LineForm(forms.Form):
    description = forms.CharField(max_length=300)
    quantity = forms.IntegerField(min_value=1, max_value=1_000_000, initial=1)
    unit_price = forms.CharField(
        label="Unit price", max_length=20, widget=forms.TextInput(attrs={"inputmode": "decimal"})
    )

    def has_changed(self) -> bool:
        """A row without a description or a price is an empty row (the quantity has a default)."""
        return any(str(self[name].value() or "").strip() for name in ("description", "unit_price"))


class BaseLineFormSet(forms.BaseFormSet):
    def __init__(self, *args, currency: str = "USD", **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency

    def clean(self):
        """Prices into minor units (the invoice's currency); at least one line."""
        self.lines = []
        for form in self.forms:
            if not form.has_changed() or self.can_delete and self._should_delete_form(form):
                continue
            data = form.cleaned_data
            if form.errors or not data:
                continue
            try:
                price = parse_amount(data["unit_price"], self.currency)
            except ValueError as error:
                form.add_error("unit_price", str(error))
                continue
            self.lines.append({**data, "unit_price": price})
        if not self.lines and not any(form.errors for form in self.forms):
            raise ValidationError(
                "An invoice needs at least one line: add a description and a price."
            )
        total = sum(line["quantity"] * line["unit_price"] for line in self.lines)
        if self.lines and not any(form.errors for form in self.forms):
            try:  # the client pays it by card: Stripe's bounds, in the words of every form
                check_payable_total(total, self.currency)
            except ValueError as error:
                shown = format_amount(total, self.currency)
                raise ValidationError(f"The total is {shown}. {error}") from None


LineFormSet = forms.formset_factory(
    LineForm, formset=BaseLineFormSet, extra=1, can_delete=True, max_num=100, validate_max=True
)


def line_initial(invoice: Invoice) -> list[dict]:
    return [
        {
            "description": line.description,
            "quantity": line.quantity,
            "unit_price": format_amount(line.unit_price, invoice.currency, with_code=False).replace(
                ",", ""
            ),
        }
        for line in invoice.lines.all()
    ]


class InvoiceFilterForm(forms.Form):
    status = forms.ChoiceField(
        choices=[("", "Any status"), *Invoice.Status.choices], required=False
    )


class PaymentProcessForm(forms.Form):
    assignee_name = forms.CharField(
        label="Assignee name", max_length=120, initial="Invoice payers",
        help_text="How the work items name who they are for.",
    )  # fmt: skip
    org_unit = forms.ModelChoiceField(
        label="Org path", queryset=None, to_field_name="uuid",
        help_text="The organisation path the payers must belong to.",
    )  # fmt: skip
    scope_type = forms.ChoiceField(
        label="Type", choices=ScopeType.choices, initial=ScopeType.UNIT, widget=forms.RadioSelect
    )
    role = forms.ModelChoiceField(
        queryset=None, to_field_name="uuid",
        help_text="Payers need this role, and the permission stripe=pay to pay.",
    )  # fmt: skip

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org_unit"].queryset = workspace.org_units.order_by("path")
        self.fields["org_unit"].label_from_instance = lambda unit: unit.path
        self.fields["role"].queryset = workspace.roles.order_by("name")


class PayForm(forms.Form):
    """What the payer pays and how: a saved card, a new card (Stripe.js) or a verified bank."""

    NEW_CARD = "new"

    amount = forms.CharField(max_length=20, widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    # This form's own token: a double click or a resubmission is the same payment.
    attempt = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)
    method = forms.ChoiceField(
        choices=[("card", "Credit card")], initial="card", widget=forms.RadioSelect
    )
    payment_method = forms.ChoiceField(label="Card", required=False, widget=forms.RadioSelect)
    save_card = forms.BooleanField(label="Save this card for next time", required=False)
    bank_account = forms.ChoiceField(label="Bank account", required=False, widget=forms.RadioSelect)
    # Shown when the same amount was paid moments ago (a page restored by Back and sent again
    # with a fresh token): paying twice must be meant.
    repeat = forms.BooleanField(
        required=False, label="Yes, pay again: this is a second, separate payment"
    )

    def __init__(self, *args, invoice: Invoice, available: int, cards=(), banks=(), ach=False,
                 **kwargs):  # fmt: skip
        kwargs.setdefault("initial", {})
        major = format_amount(available, invoice.currency, with_code=False).replace(",", "")
        kwargs["initial"].setdefault("amount", major)
        super().__init__(*args, **kwargs)
        self.currency, self.available = invoice.currency, available
        self.fields["amount"].label = f"Amount ({invoice.currency.upper()})"
        self.fields[
            "amount"
        ].help_text = (
            f"Up to {format_amount(available, invoice.currency)}, the balance still to pay."
        )
        if ach:
            self.fields["method"].choices = [("card", "Credit card"), ("ach", "Bank account (ACH)")]
        self.cards = {card.id: card for card in cards}
        self.fields["payment_method"].choices = [
            *((card.id, card_label(card)) for card in cards),
            (self.NEW_CARD, "A new card"),
        ]
        self.fields["payment_method"].initial = next(iter(self.cards), self.NEW_CARD)
        self.banks = {str(bank.uuid): bank for bank in banks if bank.status == "verified"}
        self.fields["bank_account"].choices = [
            (key, f"{bank.bank_name or 'Bank'} •••• {bank.last4}")
            for key, bank in self.banks.items()
        ]

    def clean_amount(self) -> int:
        try:
            minor = parse_amount(self.cleaned_data["amount"], self.currency)
            check_chargeable(minor, self.currency)
        except ValueError as error:
            raise ValidationError(str(error)) from None
        if minor > self.available:
            maximum = format_amount(self.available, self.currency)
            raise ValidationError(f"The most you can pay now is {maximum}.")
        return minor

    def clean(self):
        data = super().clean()
        if "attempt" in self.errors:  # a hidden field: its error would be shown nowhere
            del self.errors["attempt"]
            self.add_error(None, "This form is out of date: reload the page and pay again.")
        if data.get("method") == "ach" and not self.banks:
            self.add_error("bank_account", "Add and verify a bank account first.")
        elif data.get("method") == "ach" and data.get("bank_account") not in self.banks:
            self.add_error("bank_account", "Choose one of your verified bank accounts.")
        elif data.get("method") == "card" and not data.get("payment_method"):
            self.add_error("payment_method", "Choose a saved card or a new card.")
        return data

    @property
    def new_card(self) -> bool:
        data = self.cleaned_data
        return data.get("method") == "card" and data.get("payment_method") == self.NEW_CARD

    @property
    def bank(self):
        return self.banks.get(self.cleaned_data.get("bank_account") or "")


def card_label(card) -> str:
    return f"{card.brand.title()} •••• {card.last4}, expires {card.exp_month:02d}/{card.exp_year}"


class BankAccountForm(forms.Form):
    holder_name = forms.CharField(label="Account holder name", max_length=120)
    routing_number = forms.RegexField(
        label="Routing number", regex=r"^\d{9}$", max_length=9,
        error_messages={"invalid": "A routing number has 9 digits."},
    )  # fmt: skip
    account_number = forms.RegexField(
        label="Account number", regex=r"^\d{4,17}$", max_length=17,
        error_messages={"invalid": "An account number has 4 to 17 digits."},
    )  # fmt: skip


class BankVerifyForm(forms.Form):
    """Two microdeposit amounts in cents, or the statement descriptor code."""

    bank = forms.UUIDField(widget=forms.HiddenInput)
    amount_1 = forms.IntegerField(label="First deposit (cents)", min_value=1, max_value=99,
                                  required=False)  # fmt: skip
    amount_2 = forms.IntegerField(label="Second deposit (cents)", min_value=1, max_value=99,
                                  required=False)  # fmt: skip
    descriptor_code = forms.RegexField(
        label="Or the code on the statement", regex=r"^SM[A-Za-z0-9]{4}$", required=False,
        help_text="Six characters starting with SM.",
        error_messages={"invalid": "The code is six characters starting with SM, e.g. SM11AA."},
    )  # fmt: skip

    def clean(self):
        data = super().clean()
        amounts = (data.get("amount_1"), data.get("amount_2"))
        if data.get("descriptor_code"):
            data["amounts"] = None
        elif all(amounts):
            data["amounts"] = amounts
        elif not self.errors:
            raise ValidationError("Enter both deposit amounts, or the code on the statement.")
        return data
