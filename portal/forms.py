"""Forms for tenancy and contacts: validation and coercion only; services do the writes."""

from __future__ import annotations

import logging
import re

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordResetForm, SetPasswordForm
from django.urls import reverse

from portal import perms
from portal.emails import email_render, email_send
from portal.models import Contact, OrgUnit, Role, Workspace, email_folded

logger = logging.getLogger(__name__)


class PortalPasswordResetForm(PasswordResetForm):
    """Django's reset form, but also for active users who have not chosen a password yet.

    Django skips users without a usable password; here that only means "invited, no password
    yet", and such a user needs a fresh link once the invite e-mail is lost or expired.
    """

    def get_users(self, email):
        user_model = get_user_model()
        field = user_model.get_email_field_name()
        users = user_model._default_manager.filter(**{f"{field}__iexact": email, "is_active": True})
        # As Django does: iexact in the database, then a strict Unicode-aware comparison.
        return (u for u in users if email_folded(email) == email_folded(getattr(u, field) or ""))

    def send_mail(self, subject_template_name, email_template_name, context, from_email,
                  to_email, html_email_template_name=None):  # fmt: skip
        """The portal's own e-mail (HTML and text, templates/emails/password_reset.*) in place
        of Django's templates; like Django, a mail server failing is logged, not shown."""
        path = reverse("password_reset_confirm", args=[context["uid"], context["token"]])
        url = f"{context['protocol']}://{context['domain']}{path}"
        email = email_render(
            "password_reset",
            {"url": url, "user": context["user"]},
            subject="Password reset on the Agency Portal",
        )
        try:
            email_send(email, to=[to_email])
        except Exception:
            logger.exception("Failed to send password reset email to %s", context["user"].pk)


class OrgUnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: OrgUnit) -> str:
        return obj.path


class MemberForm(forms.Form):
    email = forms.EmailField(label="E-mail")
    roles = forms.ModelMultipleChoiceField(
        queryset=Role.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    org_unit = OrgUnitChoiceField(
        queryset=OrgUnit.objects.none(), required=False, label="Org unit", empty_label="(none)"
    )

    def __init__(self, *args, workspace: Workspace, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["roles"].queryset = workspace.roles.all()
        self.fields["org_unit"].queryset = workspace.org_units.all()
        if editing:
            del self.fields["email"]


class InvitationPasswordForm(SetPasswordForm):
    """The password a person invited without an account chooses (validated against their
    address, as Django's validators compare a password with the user's attributes)."""

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(get_user_model()(username=email, email=email), *args, **kwargs)
        self.fields["new_password1"].label = "Password"
        self.fields["new_password2"].label = "Password again"


class RoleForm(forms.Form):
    name = forms.CharField(max_length=80)
    permissions = forms.MultipleChoiceField(
        choices=[(code, f"{code} — {label}") for code, label in perms.CHOICES],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )


class OrgUnitForm(forms.Form):
    name = forms.CharField(max_length=80)
    parent = OrgUnitChoiceField(
        queryset=OrgUnit.objects.none(), required=False, empty_label="(top level)"
    )

    def __init__(self, *args, workspace: Workspace, unit: OrgUnit | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        parents = workspace.org_units.all()
        if unit is not None:  # a unit cannot move below itself
            below = workspace.org_units.below(unit.path).values("pk")
            parents = parents.exclude(pk=unit.pk).exclude(pk__in=below)
        self.fields["parent"].queryset = parents

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if "/" in name:
            raise forms.ValidationError("A unit's name cannot contain '/'.")
        return name


_CUSTOM_LINE = re.compile(r"^\s*([a-z][a-z0-9_]{0,39})\s*=\s*(.*?)\s*$")


class ContactForm(forms.ModelForm):
    custom_fields_text = forms.CharField(
        label="Custom fields",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "lead_value = 150"}),
        help_text="One per line, as name = value (names: lowercase letters, digits, _).",
    )

    class Meta:
        model = Contact
        fields = ["name", "email", "phone", "stripe_customer_id"]

    def __init__(self, *args, workspace: Workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.workspace = workspace
        if self.instance.workspace_id is None:
            self.instance.workspace = workspace
        if self.instance.pk and not self.is_bound:
            self.initial["custom_fields_text"] = "\n".join(
                f"{k} = {v}" for k, v in self.instance.custom_fields.items()
            )

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        clash = Contact.objects.filter(workspace=self.workspace, email__iexact=email)
        if email and clash.exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError("Another contact of this workspace has this e-mail.")
        return email

    def clean_stripe_customer_id(self) -> str:
        value = self.cleaned_data["stripe_customer_id"].strip()
        if value and not re.match(r"^cus_[A-Za-z0-9]+$", value):
            raise forms.ValidationError("A Stripe customer ID looks like cus_ABC123.")
        return value

    def clean_custom_fields_text(self) -> dict[str, str]:
        result: dict[str, str] = {}
        for number, line in enumerate(self.cleaned_data["custom_fields_text"].splitlines(), 1):
            if not line.strip():
                continue
            match = _CUSTOM_LINE.match(line)
            if not match:
                raise forms.ValidationError(
                    f"Line {number} should read name = value, e.g. lead_value = 150."
                )
            result[match.group(1)] = match.group(2)
        return result

    def to_fields(self) -> dict:
        """The cleaned values as keyword arguments for `contact_save`."""
        data = {name: self.cleaned_data[name] for name in self.Meta.fields}
        data["custom_fields"] = self.cleaned_data["custom_fields_text"]
        return data


class ContactSearchForm(forms.Form):
    q = forms.CharField(required=False, label="Search")
