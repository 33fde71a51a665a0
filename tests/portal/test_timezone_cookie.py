"""The viewer's zone comes from a cookie anyone can write: an unusable one falls back quietly."""

from __future__ import annotations

import pytest
from django.utils import timezone

from portal.middleware import ViewerTimezoneMiddleware

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("zone", ["America", "Europe/", "../etc/passwd", "Nowhere/City", "\x00"])
def test_an_unusable_zone_cookie_gives_no_500(client, owner, zone):
    client.force_login(owner)
    client.cookies["tz"] = zone
    assert client.get("/w/acme/").status_code == 200
    assert client.get("/healthz/").status_code == 200


@pytest.mark.parametrize(
    ("cookie", "zone"), [("America/New_York", "America/New_York"), ("America", "UTC")]
)
def test_the_viewers_zone_is_active_while_the_page_is_made(rf, cookie, zone):
    seen = []
    middleware = ViewerTimezoneMiddleware(lambda request: seen.append(
        timezone.get_current_timezone_name()))  # fmt: skip
    request = rf.get("/")
    request.COOKIES["tz"] = cookie
    middleware(request)
    assert seen == [zone]
