"""Forms of the Stripe pages. Secret fields never render a value back."""

from __future__ import annotations

import re

from django import forms

from integrations.models import StripeEvent

SECRET_RE = re.compile(r"^(sk|rk)_(test|live)_[A-Za-z0-9]{8,}$")
PUBLISHABLE_RE = re.compile(r"^pk_(test|live)_[A-Za-z0-9]{8,}$")

_secret_widget = forms.PasswordInput(
    render_value=False, attrs={"autocomplete": "off", "spellcheck": "false"}
)


def _mode_of(key: str, pattern: re.Pattern) -> str | None:
    match = pattern.match(key)
    return match.group(match.lastindex) if match else None


class ConnectionForm(forms.Form):
    """Connect by pasting keys, or (editing) replace them; a blank secret keeps the stored one."""

    secret_key = forms.CharField(
        label="Secret key",
        widget=_secret_widget,
        help_text="sk_test_…, sk_live_…, or a restricted key rk_test_… / rk_live_…. "
        "Stored encrypted; it is never shown again.",
    )
    publishable_key = forms.CharField(label="Publishable key", help_text="pk_test_… or pk_live_…")
    make_default = forms.BooleanField(
        label="Use this account by default", required=False, initial=True
    )

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.editing = editing
        if editing:
            self.fields["secret_key"].required = False
            self.fields[
                "secret_key"
            ].help_text = "Leave blank to keep the stored key; paste a new one to replace it."
            self.fields["make_default"].initial = False

    def clean_secret_key(self) -> str:
        key = self.cleaned_data["secret_key"].strip()
        if key and not SECRET_RE.match(key):
            if key.startswith("pk_"):
                raise forms.ValidationError(
                    "This is the publishable key; paste the secret key (sk_…) here."
                )
            raise forms.ValidationError(
                "A secret key starts with sk_test_, sk_live_, rk_test_ or rk_live_ "
                "followed by letters and digits."
            )
        return key

    def clean_publishable_key(self) -> str:
        key = self.cleaned_data["publishable_key"].strip()
        if not PUBLISHABLE_RE.match(key):
            raise forms.ValidationError("A publishable key starts with pk_test_ or pk_live_.")
        return key

    def clean(self):
        data = super().clean()
        secret, publishable = data.get("secret_key"), data.get("publishable_key")
        if secret and publishable:
            if _mode_of(secret, SECRET_RE) != _mode_of(publishable, PUBLISHABLE_RE):
                self.add_error(
                    "publishable_key", "The publishable key is of the other mode (test/live)."
                )
        return data


class WebhookSecretForm(forms.Form):
    secret = forms.CharField(
        label="Signing secret",
        widget=_secret_widget,
        help_text="From the endpoint's page in Stripe's dashboard: whsec_…",
    )


class EventFilterForm(forms.Form):
    type = forms.CharField(required=False)
    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), *StripeEvent.Status.choices]
    )
    since = forms.DateField(required=False, label="From", widget=forms.DateInput({"type": "date"}))
    until = forms.DateField(required=False, label="Until", widget=forms.DateInput({"type": "date"}))
