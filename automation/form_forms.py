"""Django forms for building forms (staff) and for submitting them (public)."""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation

from django import forms
from django.core.validators import MaxLengthValidator, validate_slug

from automation.models import Form, FormField
from portal.models import Contact

Kind, MapsTo = FormField.Kind, FormField.MapsTo


class FormMetaForm(forms.Form):
    name = forms.CharField(max_length=120)
    slug = forms.SlugField(
        max_length=60,
        label="Address",
        help_text="The public page is /f/this-address/: lowercase letters, digits and hyphens.",
    )
    intro = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    success_message = forms.CharField(
        max_length=300, required=False, help_text="Shown after a submission."
    )
    is_active = forms.BooleanField(
        required=False, initial=True, label="Active (the public page accepts submissions)"
    )
    submission_limit = forms.IntegerField(
        label="Submissions allowed per address",
        required=False,
        initial=5,
        min_value=1,
        max_value=1000,
        help_text="1 to 1000 from one connection in the window below (blank: 5); more are "
        "refused with a message.",
        error_messages={
            "invalid": "Enter a whole number from 1 to 1000.",
            "min_value": "Allow at least 1 submission per address.",
            "max_value": "Allow at most 1000 submissions per address.",
        },
    )
    submission_window_minutes = forms.IntegerField(
        label="Window (minutes)",
        required=False,
        initial=10,
        min_value=1,
        max_value=24 * 60,
        help_text="1 to 1440 minutes (24 hours; blank: 10), counted from an address's first "
        "submission.",
        error_messages={
            "invalid": "Enter a whole number of minutes from 1 to 1440.",
            "min_value": "The window is at least 1 minute.",
            "max_value": "The window is at most 1440 minutes (24 hours).",
        },
    )

    def clean_slug(self) -> str:
        return self.cleaned_data["slug"].lower()

    def clean_submission_limit(self) -> int:
        value = self.cleaned_data["submission_limit"]
        return self.fields["submission_limit"].initial if value is None else value

    def clean_submission_window_minutes(self) -> int:
        value = self.cleaned_data["submission_window_minutes"]
        return self.fields["submission_window_minutes"].initial if value is None else value

    @classmethod
    def initial_for(cls, form: Form) -> dict:
        return {
            "name": form.name,
            "slug": form.slug,
            "intro": form.intro,
            "success_message": form.success_message,
            "is_active": form.is_active,
            "submission_limit": form.submission_limit,
            "submission_window_minutes": form.submission_window_minutes,
        }


class FieldRowForm(forms.Form):
    label = forms.CharField(max_length=120)
    key = forms.CharField(
        max_length=40,
        help_text="e.g. lead_value: the name in trigger.fields and in the contact's custom fields.",
    )
    kind = forms.ChoiceField(choices=Kind.choices, initial=Kind.TEXT)
    maps_to = forms.ChoiceField(choices=MapsTo.choices, initial=MapsTo.CUSTOM, label="Saves to")
    required = forms.BooleanField(required=False)
    choices = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Dropdown options, one per line.",
    )

    def clean_key(self) -> str:
        key = self.cleaned_data["key"].strip().lower()
        validate_slug(key)
        key = key.replace("-", "_")
        if key in RESERVED_KEYS:
            raise forms.ValidationError("The public page uses this name itself; pick another.")
        return key

    def clean(self):
        data = super().clean()
        kind, maps_to = data.get("kind"), data.get("maps_to")
        options = [line.strip() for line in (data.get("choices") or "").splitlines()]
        data["choices"] = [o for o in options if o]
        if kind == Kind.DROPDOWN and not data["choices"]:
            self.add_error("choices", "A dropdown needs at least one option.")
        if maps_to == MapsTo.EMAIL and kind != Kind.EMAIL:
            self.add_error("kind", "Only an e-mail field can fill the contact's e-mail.")
        if maps_to in (MapsTo.NAME, MapsTo.PHONE) and kind in (Kind.CHECKBOX, Kind.NUMBER):
            self.add_error("maps_to", "A checkbox or number cannot fill the contact's name/phone.")
        return data

    def to_field(self) -> dict:
        data = self.cleaned_data
        return {
            "label": data["label"],
            "key": data["key"],
            "kind": data["kind"],
            "maps_to": data["maps_to"],
            "required": data["required"],
            "choices": data["choices"] if data["kind"] == Kind.DROPDOWN else [],
        }

    @classmethod
    def initial_for(cls, field: FormField) -> dict:
        return {
            "label": field.label,
            "key": field.key,
            "kind": field.kind,
            "maps_to": field.maps_to,
            "required": field.required,
            "choices": "\n".join(field.choices),
        }


FieldFormSet = forms.formset_factory(FieldRowForm, extra=2, can_delete=True, max_num=50)

DEFAULT_FIELDS = [
    {"label": "Name", "key": "name", "kind": Kind.NAME, "maps_to": MapsTo.NAME, "required": True},
    {"label": "E-mail", "key": "email", "kind": Kind.EMAIL, "maps_to": MapsTo.EMAIL,
     "required": True},
    {"label": "Phone", "key": "phone", "kind": Kind.PHONE, "maps_to": MapsTo.PHONE},
]  # fmt: skip


def field_rows(formset) -> list[dict]:
    """The formset's filled rows (blank extra rows and deleted rows left out), in order."""
    return [
        row.to_field()
        for row in formset.forms
        if row.has_changed() and not (formset.can_delete and formset._should_delete_form(row))
    ]


class NumberField(forms.CharField):
    """A number as text ("150", "49.99"): JSON-safe and exact, never a float."""

    def to_python(self, value):
        value = super().to_python(value).strip().replace(",", "")
        if not value:
            return ""
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise forms.ValidationError("Enter a number, such as 150 or 49.99.") from None
        if not number.is_finite():
            raise forms.ValidationError("Enter a number, such as 150 or 49.99.")
        return value


# Names the public page uses itself; a field with such a key could not be told apart.
RESERVED_KEYS = ("website", "submission_token", "csrfmiddlewaretoken")


class PublicForm(forms.Form):
    """The fields of a `Form`, for its public page; `website` is the honeypot."""

    website = forms.CharField(
        required=False,
        label="Leave this empty",
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    # The page's one-time token: the same page sent twice is one submission.
    submission_token = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, form: Form, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("submission_token", uuid.uuid4())
        super().__init__(*args, **kwargs)
        self.form_fields = list(form.fields.all())
        for field in self.form_fields:
            self.fields[field.key] = _input_for(field)
        self.fields["website"] = self.fields.pop("website")  # last, out of the way

    @property
    def token(self):
        """The page's token (None when a client sent none, or garbage)."""
        return self.cleaned_data.get("submission_token")

    @property
    def is_spam(self) -> bool:
        return bool(self.data.get("website"))

    def values(self) -> dict:
        """JSON-safe values keyed by field key."""
        return {f.key: self.cleaned_data.get(f.key) for f in self.form_fields}


# A field filling a contact column takes no more than the column holds (a text field may fill
# the name: 2,000 characters would not fit).
CONTACT_MAX_LENGTH = {
    maps_to: Contact._meta.get_field(maps_to).max_length for maps_to in (MapsTo.NAME, MapsTo.PHONE)
}


def _input_for(field: FormField) -> forms.Field:
    form_field = _kind_input(field)
    if field.maps_to in CONTACT_MAX_LENGTH:
        form_field.validators.append(MaxLengthValidator(CONTACT_MAX_LENGTH[field.maps_to]))
    return form_field


def _kind_input(field: FormField) -> forms.Field:
    common = {"label": field.label, "required": field.required}
    if field.kind == Kind.EMAIL:
        return forms.EmailField(max_length=254, **common)
    if field.kind == Kind.NAME:
        return forms.CharField(max_length=200, **common)
    if field.kind == Kind.PHONE:
        return forms.CharField(
            max_length=40, widget=forms.TextInput(attrs={"type": "tel"}), **common
        )
    if field.kind == Kind.NUMBER:
        return NumberField(
            max_length=30, widget=forms.TextInput(attrs={"inputmode": "decimal"}), **common
        )
    if field.kind == Kind.DROPDOWN:
        choices = [("", "—")] + [(c, c) for c in field.choices]
        return forms.ChoiceField(choices=choices, **common)
    if field.kind == Kind.CHECKBOX:
        return forms.BooleanField(**common)
    return forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 3}), **common)
