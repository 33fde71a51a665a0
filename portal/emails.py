"""Every e-mail the portal sends: rendered from `templates/emails/<name>.html` and `.txt`
(both extending the shared layouts `emails/base.html` and `emails/base.txt`) and sent as HTML
with a plain-text alternative.

Times in an e-mail are the recipient's: the templates are rendered with the recipient's zone
active, so `{{ when|local }}` (portal/templatetags/zoned.py) shows that zone's clock and names
the zone ("9:00 a.m. EST"); a booking reads in its calendar's zone with `|in_zone`. A customer's
zone is their bookings' calendar's, else the workspace's (`customer_zone`); a member's is the zone
their browser last reported (UserPreferences, remembered by portal.middleware), else the
workspace's (`user_zone`), so staff e-mails go one message per recipient.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone

from portal.models import UserPreferences
from portal.money import locale_override

PRODUCT_NAME = "Agency Portal"


@dataclass(frozen=True)
class Email:
    """One rendered e-mail: what the preview shows is what `email_send` sends."""

    subject: str
    text: str
    html: str
    zone: str = "UTC"
    headers: dict[str, str] = field(default_factory=dict)


def workspace_zone(workspace) -> str:
    """The workspace's zone: its own setting, else its first calendar's, else UTC."""
    return _known(workspace.zone_name if workspace is not None else "")


def customer_zone(workspace, appointments: Iterable = ()) -> str:
    """A customer's zone: the calendar's of their (first) booking, else the workspace's."""
    for appointment in appointments:
        return _known(appointment.calendar.time_zone)
    return workspace_zone(workspace)


def user_zone(user, workspace) -> str:
    """A member's zone: the one their browser last reported, else the workspace's."""
    remembered = (
        UserPreferences.objects.filter(user=user).values_list("time_zone", flat=True).first()
    )
    return _known(remembered) if remembered else workspace_zone(workspace)


def _known(zone: str | None) -> str:
    try:
        zoneinfo.ZoneInfo(zone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return "UTC"
    return zone or "UTC"


def email_render(
    name: str,
    context: dict,
    *,
    subject: str,
    workspace=None,
    zone: str = "UTC",
    headers: dict[str, str] | None = None,
) -> Email:
    """Render `emails/<name>.html` and `.txt` with `context`, in `zone`.

    The layouts get `subject`, the sender's name (the workspace's, else the portal's) as
    `brand`, `zone` and `site_url`; the text layout renders without HTML escaping."""
    full = {
        **context,
        "subject": subject,
        "workspace": workspace,
        "brand": workspace.name if workspace is not None else PRODUCT_NAME,
        "zone": zone,
        "site_url": settings.SITE_URL,
    }
    # Amounts read in the workspace's locale (portal.money), times in the recipient's zone.
    locale = getattr(workspace, "locale", None) if workspace is not None else None
    with timezone.override(zoneinfo.ZoneInfo(_known(zone))), locale_override(locale):
        text = render_to_string(f"emails/{name}.txt", full)
        html = render_to_string(f"emails/{name}.html", full)
    # A subject is one line, whatever a name in it holds.
    subject = " ".join(subject.split())
    return Email(subject, _tidy(text), html, zone, dict(headers or {}))


def _tidy(text: str) -> str:
    """The text part without the blank lines template tags leave: at most one in a row."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    kept: list[str] = []
    for line in lines:
        if line or (kept and kept[-1]):
            kept.append(line)
    return "\n".join(kept) + "\n"


def email_message(email: Email, *, to: list[str], connection=None) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=to,
        headers=email.headers or None,
        connection=connection,
    )
    message.attach_alternative(email.html, "text/html")
    return message


def email_send(email: Email, *, to: list[str], fail_silently: bool = False) -> int:
    """Send `email` (its text, with its HTML as the alternative) to `to`; the number sent."""
    return email_message(email, to=to).send(fail_silently=fail_silently)


def email_send_each(
    name: str,
    context: dict,
    *,
    subject: str,
    workspace,
    users: Iterable,
    fail_silently: bool = False,
) -> int:
    """Render and send `emails/<name>` to each user apart, in that user's zone (`user_zone`):
    two owners in two zones read the same e-mail at their own clocks. The number sent."""
    sent = 0
    for user in users:
        email = email_render(
            name, context, subject=subject, workspace=workspace, zone=user_zone(user, workspace)
        )
        sent += email_send(email, to=[user.email], fail_silently=fail_silently)
    return sent
