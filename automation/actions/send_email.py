"""Send e-mail: the member's plain-text message, with variables, sent as text and in the
workspace's HTML layout."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from django import forms
from django.core.validators import validate_email

from automation.actions.base import Action as BaseAction
from automation.actions.base import ActionConfigForm, ActionError
from portal.emails import email_message, email_render, workspace_zone


class ConfigForm(ActionConfigForm):
    variable_fields = ("to", "subject", "body")

    to = forms.CharField(initial="{{ contact.email }}")
    subject = forms.CharField()
    body = forms.CharField(widget=forms.Textarea({"rows": 5}))


@dataclass
class Output:
    to: str
    subject: str
    # Where it really went: `to`, except in a test run (the member running it, or nobody).
    sent_to: str = ""
    note: str = ""


class Action(BaseAction):
    key = "send_email"
    label = "Send e-mail"
    description = "E-mail someone, for example the contact or the agency."
    config_form = ConfigForm
    Output = Output

    @classmethod
    def execute(cls, inputs, ctx):
        to = str(inputs.get("to") or "").strip()
        try:
            validate_email(to)
        except forms.ValidationError:
            raise ActionError("VALIDATION_ERROR", f"{to!r} is not an e-mail address.") from None
        subject, body = str(inputs.get("subject") or ""), str(inputs.get("body") or "")
        recipient, note = to, ""
        if ctx.test_run:
            # A test run's sample data may hold anyone's address: only the member testing
            # gets the message, marked as such.
            member = ctx.run.started_by
            recipient = member.email if member is not None else ""
            note = f"Test run: this would have been sent to {to}"
            if not recipient:
                note += "; not sent (no member's e-mail address to send it to instead)."
                return asdict(Output(to, subject, "", note))
            note += f"; sent to {recipient} instead."
            subject = f"[Test run] {subject}"
        # The body is the member's plain text: escaped into the HTML layout, line breaks kept,
        # and sent as written for the text part.
        email = email_render(
            "workflow",
            {"body": body, "note": note},
            subject=subject,
            workspace=ctx.workspace,
            zone=workspace_zone(ctx.workspace),
            # A retried step must not e-mail twice through providers that honour it.
            headers={"X-Idempotency-Key": ctx.idempotency_key},
        )
        text = f"{note}\n\n{body}" if note else body
        message = email_message(replace(email, text=text), to=[recipient])
        try:
            message.send()
        except OSError as error:
            raise ActionError(
                "PROVIDER_ERROR", f"The mail server failed: {error}", retryable=True
            ) from None
        return asdict(Output(to, message.subject, recipient, note))
