from __future__ import annotations

import zoneinfo
from functools import cache

from django.utils import timezone

TIMEZONE_COOKIE = "tz"


class ViewerTimezoneMiddleware:
    """Shows times in the viewer's zone: base.html stores the browser's zone in a cookie."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name = request.COOKIES.get(TIMEZONE_COOKIE, "")
        # Only a zone the database lists: a cookie can name anything, even a folder of zones
        # ("America"), which ZoneInfo cannot open (an OSError, not ZoneInfoNotFoundError).
        if name in known_zones():
            timezone.activate(zoneinfo.ZoneInfo(name))
        else:
            timezone.deactivate()
        return self.get_response(request)


@cache
def known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())
