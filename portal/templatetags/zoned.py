"""Times with their zone: `{{ when|local }}` in the viewer's zone (the tz cookie,
portal.middleware.ViewerTimezoneMiddleware), `{{ when|in_zone:calendar.time_zone }}` in a
named zone (a booking in its calendar's), each followed by the zone's abbreviation ("EST")."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.formats import get_format

register = template.Library()


def zone_label(value: dt.datetime) -> str:
    """The abbreviation of `value`'s zone at that moment ("EST", "CEST"); zones without a
    name give an offset ("-03"), shown as "UTC-03"."""
    name = value.tzname() or ""
    return f"UTC{name}" if name[:1] in "+-" and name else name


def _formatted(value: dt.datetime, fmt: str) -> str:
    # A format name (DATETIME_FORMAT) or a format string ("D j M, H:i"), as `date` takes.
    text = date_format(value, get_format(fmt) if fmt.isupper() else fmt)
    return f"{text} {zone_label(value)}"


@register.filter(expects_localtime=False)
def local(value, fmt: str = "DATETIME_FORMAT") -> str:
    """`{{ payment.created_at|local }}` -> "Jan. 7, 2030, 9:30 a.m. EST": in the viewer's
    zone (UTC until the browser has told it), with the zone shown."""
    if not isinstance(value, dt.datetime):
        return ""
    if timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    return _formatted(timezone.localtime(value), fmt)


@register.filter(expects_localtime=False)
def in_zone(value, zone: str) -> str:
    """`{{ appointment.starts_at|in_zone:calendar.time_zone }}`: the time in that zone, with
    the zone shown ("Jan. 7, 2030, 3:30 p.m. CET")."""
    if not isinstance(value, dt.datetime):
        return ""
    try:
        tz = zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        tz = dt.UTC
    if timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    return _formatted(value.astimezone(tz), "DATETIME_FORMAT")


@register.filter(expects_localtime=False)
def zone_differs(zone: str) -> bool:
    """`{% if calendar.time_zone|zone_differs %}`: the named zone is not the viewer's."""
    return zone != timezone.get_current_timezone_name()
