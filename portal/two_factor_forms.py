"""Forms of two-factor sign-in: the shape of a code only; portal.two_factor checks it."""

from __future__ import annotations

import re

from django import forms

_APP_CODE = re.compile(r"^\d{3}[\s-]?\d{3}$")
_ANY_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\s-]{4,30}$")


def _code_input(**attrs) -> forms.TextInput:
    # Password managers and phones fill a field marked one-time-code from the app or an SMS.
    return forms.TextInput(
        attrs={
            "autocomplete": "one-time-code",
            "autocapitalize": "off",
            "spellcheck": "false",
            "autofocus": True,
            **attrs,
        }  # fmt: skip
    )


class AppCodeForm(forms.Form):
    """The six digits the authenticator app shows now."""

    code = forms.CharField(
        label="Code from the app",
        max_length=7,
        help_text="Six digits; the app shows a new one every 30 seconds.",
        widget=_code_input(inputmode="numeric", pattern=r"\d{3} ?\d{3}"),
    )

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip()
        if not _APP_CODE.match(code):
            raise forms.ValidationError("Enter the six digits the app shows.")
        return code


class CodeForm(forms.Form):
    """A code from the app, or one of the recovery codes."""

    code = forms.CharField(
        label="Code",
        max_length=32,
        help_text="The six digits your authenticator app shows, or one of your recovery codes.",
        widget=_code_input(),
    )

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip()
        if not _ANY_CODE.match(code):
            raise forms.ValidationError(
                "Enter the six digits your app shows, or a recovery code (8 letters and digits)."
            )
        return code


class DisableForm(CodeForm):
    confirm = forms.BooleanField(
        label="Yes, turn two-factor sign-in off and delete my recovery codes",
        error_messages={"required": "Tick the box to confirm."},
    )
