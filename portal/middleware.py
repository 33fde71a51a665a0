from __future__ import annotations

import zoneinfo
from functools import cache
from urllib.parse import urlencode

from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django_htmx.http import HttpResponseClientRedirect

from portal.access import TwoFactorRequired
from portal.models import UserPreferences
from portal.money import DEFAULT_LOCALE, locale_override
from portal.two_factor import two_factor_enabled

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
            _remember(request, name)
        else:
            timezone.deactivate()
        # Amounts read in the default locale until a workspace page activates its own.
        with locale_override(DEFAULT_LOCALE):
            return self.get_response(request)


REMEMBERED_ZONE = "_remembered_tz"


def _remember(request, name: str) -> None:
    """Keep the zone a signed-in user's browser reports, for e-mails sent to them
    (portal.emails.user_zone). The session remembers what was stored, so a page whose zone
    has not changed costs no query; a change is written once, and only if it differs."""
    session = getattr(request, "session", None)
    user = getattr(request, "user", None)
    if session is None or user is None or session.get(REMEMBERED_ZONE) == name:
        return
    if not user.is_authenticated:
        return
    stored = UserPreferences.objects.filter(user=user).values_list("time_zone", flat=True).first()
    if stored != name:
        UserPreferences.objects.update_or_create(user=user, defaults={"time_zone": name})
    session[REMEMBERED_ZONE] = name


@cache
def known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


# Pages a user who has not given a code yet may still open: the code page and log-out, and
# the pages that are the same for everyone (public forms, bookings, payment links, webhooks).
OPEN_BEFORE_CODE = frozenset(
    {
        "two_factor_verify",
        "logout",
        "healthz",
        "password_reset",
        "password_reset_done",
        "password_reset_confirm",
        "password_reset_complete",
        "public_form",
        "public_booking",
        "public_pay",
        "public_pay_intent",
        "public_pay_return",
        "public_pay_done",
        "stripe_webhook",
    }
)


class TwoFactorMiddleware:
    """Two-factor sign-in, the one place that sends people to give or set up a code.

    A user who has two-factor sign-in on, logged in with the password but without a code in
    this session, reaches only the code page (and the pages in OPEN_BEFORE_CODE) until then.
    A workspace requiring it of a member raises TwoFactorRequired in portal.access; that
    member is sent to give a code, or to set it up first.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated or user.is_verified():
            return None
        match = request.resolver_match
        if match is not None and match.url_name in OPEN_BEFORE_CODE:
            return None
        if not two_factor_enabled(user):
            return None
        return _send(request, "two_factor_verify")

    def process_exception(self, request, exception):
        if not isinstance(exception, TwoFactorRequired):
            return None
        if exception.enrolled:
            return _send(request, "two_factor_verify")
        return _send(request, "two_factor_setup", workspace=exception.workspace.slug)


def _send(request, url_name: str, **query) -> HttpResponse:
    """To the page, then back where the user was: the page asked for (a GET), the page around
    the part htmx asked for; after a plain POST, which a redirect cannot repeat, the home page."""
    htmx = getattr(request, "htmx", None)
    if htmx:
        back = htmx.current_url_abs_path  # None for another site's page
    else:
        back = request.get_full_path() if request.method == "GET" else None
    if back:
        query["next"] = back
    url = reverse(url_name) + (f"?{urlencode(query)}" if query else "")
    if htmx:
        return HttpResponseClientRedirect(url)  # htmx would swap the page into the part
    return HttpResponseRedirect(url)
