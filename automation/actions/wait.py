"""Wait: the run goes on after a duration, or at a time read from a variable ("24 hours before
{{ trigger.appointment.starts_at }}"). Nothing waits meanwhile: `execute` raises WaitUntil and
the engine sets the run aside until then, holding no worker and no lock."""

from __future__ import annotations

import zoneinfo
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django import forms
from django.utils import timezone

from automation.actions.base import Action as BaseAction
from automation.actions.base import ActionConfigForm, ActionError, WaitUntil

UNITS = {"minutes": timedelta(minutes=1), "hours": timedelta(hours=1), "days": timedelta(days=1)}


def workspace_zone(workspace) -> str:
    """The workspace's zone (Workspace.zone_name), UTC without one."""
    return workspace.zone_name if workspace is not None else "UTC"


class ConfigForm(ActionConfigForm):
    variable_fields = ("until",)

    mode = forms.ChoiceField(
        label="Wait",
        choices=[("duration", "For a duration"), ("until", "Until a time from a variable")],
        initial="duration",
    )
    length = forms.IntegerField(label="How long", min_value=0, max_value=100_000, initial=1)
    unit = forms.ChoiceField(choices=[(u, u) for u in UNITS], initial="hours")
    direction = forms.ChoiceField(
        label="Before or after the time", required=False, initial="before",
        choices=[("before", "before the time"), ("after", "after the time")],
    )  # fmt: skip
    until = forms.CharField(
        label="The time", required=False,
        help_text="A variable holding a date and time, e.g. {{ trigger.appointment.starts_at }}.",
    )  # fmt: skip
    time_zone = forms.ChoiceField(
        help_text="Days are counted, and a time written without a zone is read, in this zone."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [(z, z) for z in sorted(zoneinfo.available_timezones())]
        self.fields["time_zone"].initial = workspace_zone(self.workspace)

    def clean(self):
        data = super().clean()
        if data.get("mode") == "until" and not (data.get("until") or "").strip():
            self.add_error("until", "Choose the variable that holds the time to wait for.")
        return data


@dataclass
class Output:
    until: str  # ISO 8601, when the run went on (or, in a test run, would have)
    note: str = ""


def read_time(value, zone: zoneinfo.ZoneInfo) -> datetime:
    """A variable's value as an aware time: ISO 8601 (without a zone: in `zone`), a date
    (its midnight), or Unix seconds (Stripe's timestamps)."""
    text = str(value if value is not None else "").strip()
    if text.isdigit():
        return datetime.fromtimestamp(int(text), tz=zoneinfo.ZoneInfo("UTC"))
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ActionError("VALIDATION_ERROR", f"{text!r} is not a date and time.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


class Action(BaseAction):
    key = "wait"
    label = "Wait"
    description = "Pause the run for a while, or until a time such as a day before a booking."
    config_form = ConfigForm
    Output = Output

    @classmethod
    def execute(cls, inputs, ctx):
        zone = zoneinfo.ZoneInfo(inputs.get("time_zone") or "UTC")
        unit = inputs.get("unit") if inputs.get("unit") in UNITS else "hours"
        length = UNITS[unit] * int(inputs.get("length") or 0)
        if inputs.get("mode") == "until":
            at = read_time(inputs.get("until"), zone)
            at = at - length if inputs.get("direction", "before") == "before" else at + length
        elif unit == "days":  # calendar days in the zone: the same clock time across DST
            start = (ctx.started_at or timezone.now()).astimezone(zone)
            at = (start.replace(tzinfo=None) + length).replace(tzinfo=zone)
        else:
            at = (ctx.started_at or timezone.now()) + length
        if ctx.test_run:
            return asdict(Output(at.isoformat(), "Test run: went on without waiting."))
        if at > timezone.now():
            raise WaitUntil(at)
        return asdict(Output(at.isoformat()))
