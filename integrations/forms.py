"""Forms of the Stripe pages. Secret fields never render a value back."""

from __future__ import annotations

import re

from django import forms

from integrations.models import StripeEvent

SECRET_RE = re.compile(r"^(sk|rk)_(test|live)_[A-Za-z0-9]{8,}$")
PUBLISHABLE_RE = re.compile(r"^pk_(test|live)_[A-Za-z0-9]{8,}$")
SIGNING_SECRET_RE = re.compile(r"^whsec_[A-Za-z0-9_]{8,}$")
# What a pasted value is, told by its prefix alone (the rest is never repeated anywhere).
_KINDS = [
    (re.compile(r"^(sk_(?:test|live)_)"), "a Stripe secret key"),
    (re.compile(r"^(rk_(?:test|live)_)"), "a Stripe restricted key"),
    (re.compile(r"^(pk_(?:test|live)_)"), "a Stripe publishable key"),
    (re.compile(r"^(whsec_)"), "a webhook signing secret"),
]
WHERE_SIGNING_SECRET = (
    "The signing secret starts with whsec_ and is under Developers → Webhooks → "
    "your endpoint → Signing secret."
)
WHERE_SECRET_KEY = (
    "The secret key starts with sk_ (or rk_ for a restricted key) and is under "
    "Developers → API keys."
)

NOT_HERE = "Not the webhook signing secret (whsec_…): that one goes on each Stripe trigger."

_secret_widget = forms.PasswordInput(
    render_value=False, attrs={"autocomplete": "off", "spellcheck": "false"}
)


def key_kind(value: str) -> tuple[str, str] | None:
    """(what it is, its prefix) for a Stripe key or signing secret, told by the prefix only:
    ("a Stripe secret key", "sk_test_"). None for anything else."""
    for pattern, kind in _KINDS:
        match = pattern.match(value)
        if match:
            return kind, match.group(1)
    return None


def signing_secret_clean(value: str) -> str:
    """A webhook signing secret (whsec_...), stripped; a key pasted in its place is refused
    with a message naming the mix-up. Messages name the prefix, never the value."""
    value = value.strip()
    if SIGNING_SECRET_RE.match(value):
        return value
    found = key_kind(value)
    if found and found[0] != "a webhook signing secret":
        kind, prefix = found
        raise forms.ValidationError(
            f"This is {kind} ({prefix}…), not a webhook signing secret. {WHERE_SIGNING_SECRET}",
            code="key_not_signing_secret",
        )
    raise forms.ValidationError(
        "A signing secret starts with whsec_; it is under Developers → Webhooks → "
        "your endpoint → Signing secret.",
        code="invalid",
    )


def _forget_value(form: forms.Form, name: str) -> None:
    """Render the field empty again: what was pasted may be a secret, and is not echoed."""
    form.data = form.data.copy()
    form.data[name] = ""


def _mode_of(key: str, pattern: re.Pattern) -> str | None:
    match = pattern.match(key)
    return match.group(match.lastindex) if match else None


class ConnectionForm(forms.Form):
    """Connect by pasting keys, or (editing) replace them; a blank secret keeps the stored one."""

    secret_key = forms.CharField(
        label="Secret key",
        widget=_secret_widget,
        help_text="sk_test_…, sk_live_…, or a restricted key rk_test_… / rk_live_…. "
        "Stored encrypted; it is never shown again. " + NOT_HERE,
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
            self.fields["secret_key"].help_text = (
                "Leave blank to keep the stored key; paste a new one to replace it. " + NOT_HERE
            )
            self.fields["make_default"].initial = False

    def clean_secret_key(self) -> str:
        key = self.cleaned_data["secret_key"].strip()
        if key and not SECRET_RE.match(key):
            if key.startswith("pk_"):
                raise forms.ValidationError(
                    "This is the publishable key; paste the secret key (sk_…) here."
                )
            if key.startswith("whsec_"):
                raise forms.ValidationError(
                    "This is a webhook signing secret (whsec_…), not a Stripe secret key. "
                    f"{WHERE_SECRET_KEY} The signing secret goes on a webhook trigger "
                    "(or the connection's Webhooks page).",
                    code="signing_secret_not_key",
                )
            raise forms.ValidationError(
                "A secret key starts with sk_test_, sk_live_, rk_test_ or rk_live_ "
                "followed by letters and digits."
            )
        return key

    def clean_publishable_key(self) -> str:
        key = self.cleaned_data["publishable_key"].strip()
        found = key_kind(key)
        if found and not key.startswith("pk_"):
            # A secret in the visible field: refuse it, and do not show it back.
            _forget_value(self, "publishable_key")
            kind, prefix = found
            raise forms.ValidationError(
                f"This is {kind} ({prefix}…), not the publishable key, and it is not shown "
                "again. The publishable key starts with pk_ and is under Developers → API keys.",
                code="secret_not_publishable_key",
            )
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
        help_text="whsec_…, from Developers → Webhooks → your endpoint → Signing secret. "
        "Not the secret key (sk_…): that one goes on the connection.",
    )

    def clean_secret(self) -> str:
        return signing_secret_clean(self.cleaned_data["secret"])


class EventFilterForm(forms.Form):
    type = forms.CharField(required=False)
    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), *StripeEvent.Status.choices]
    )
    since = forms.DateField(required=False, label="From", widget=forms.DateInput({"type": "date"}))
    until = forms.DateField(required=False, label="Until", widget=forms.DateInput({"type": "date"}))
