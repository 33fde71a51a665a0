"""Every public page under hostile headers and cookies: the `tz` cookie (zone names, folders of
zones, garbage, NUL, huge), Accept-Language, X-Forwarded-For (garbage, hundreds of hops, IPv6,
zones) read with and without trusted proxies, Host (within ALLOWED_HOSTS), a garbage Cookie
header, odd Content-Types on POSTs and garbage Stripe-Signature on the webhook; anonymous and
signed in. Never a 5xx, and no answer shows a traceback.

Requests go through the test client behind the same guard ``portal.wsgi`` puts in front of
Django (``malformed_request``), as the server's requests do. Header values are what a WSGI
server hands over: any bytes, read as latin-1. RELIABILITY_HEADERS examples per page (20 by
default; .ci/run sets more). Slow: a few hundred requests per page.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import zoneinfo
from urllib.parse import urlencode
from wsgiref.util import setup_testing_defaults

import pytest
from django.core.cache import cache
from django.http import HttpRequest, HttpResponseBadRequest
from django.test import Client
from django.utils import timezone
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from billing.services.charges import payment_refresh
from billing.services.links import payment_link_checkout, payment_link_create
from portal.wsgi import CONTROL, application, malformed_request
from tests.automation.factories import (
    AppointmentFactory,
    AvailabilityFactory,
    CalendarFactory,
    FormFactory,
)
from tests.reliability.conftest import example_savepoint, webhook_endpoint
from tests.reliability.hostile import HOSTILE, text

pytestmark = pytest.mark.django_db
EXAMPLES = int(os.environ.get("RELIABILITY_HEADERS", "20"))
PROPERTY = settings(HOSTILE, max_examples=EXAMPLES)

# --- What arrives: header values as a WSGI server hands them over (bytes read as latin-1) ----

raw = st.binary(max_size=200).map(lambda b: b.decode("latin-1"))
as_sent = text.map(lambda t: t.encode("utf-8").decode("latin-1"))  # UTF-8 bytes, read as latin-1
# Mostly what gunicorn lets through (no control characters but tab); now and then what another
# server might pass on, which portal.wsgi refuses.
header_text = st.one_of(
    raw.map(lambda v: CONTROL.sub("", v)),
    as_sent.map(lambda v: CONTROL.sub("", v)),
    st.integers(min_value=1000, max_value=20_000).map(lambda n: "x" * n),
    st.sampled_from(["", " ", "\t", ";", ",", "=", '"', "\\", "%00", '"\\000"', "\\x00"]),
    st.one_of(raw, as_sent, st.sampled_from(["\x00", "a\x00b", "\r", "\n", "\x7f"])),
)
ZONES = sorted(zoneinfo.available_timezones())
tz_cookie = st.one_of(
    st.sampled_from(ZONES),
    st.sampled_from(["America", "Etc", "posix", "right", "Europe/", "/UTC", '"UTC\\000"', ".",
                     "..", "../../../../etc/passwd", "/etc/localtime", "localtime",
                     "posixrules", "zone.tab", "tzdata.zi", "leapseconds", "Factory",
                     '"America/New_York\\000x"', "x" * 10_000, "utc", "EST5EDT", '"\\000"']),
    header_text,
)  # fmt: skip
accept_language = st.one_of(
    st.sampled_from(["*", "en-US,en;q=0.9", "de-DE-1996", "zz;q=abc", "en;q=NaN", "en;q=-1",
                     "x-klingon", ",,,;;;", "en-" + "a" * 500, "i-default", "zh-Hant-TW",
                     "fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5", "en;q=1e999"]),
    header_text,
)  # fmt: skip
hop = st.one_of(
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(str),
    st.sampled_from(["unknown", "", " ", "[::1]", "[2001:db8::1]:443", "1.2.3.4:80",
                     "fe80::1%eth0", "::1%<script>", "fe80::1%\x00", "::ffff:1.2.3.4",
                     "0.0.0.0", "255.255.255.255", "1.2.3", "01.02.03.04", "2001:DB8:0::1",
                     "10.0.0.1", "_", "-1"]),
    header_text,
)  # fmt: skip
forwarded_for = st.one_of(
    st.lists(hop, max_size=300).map(", ".join),
    st.lists(hop, max_size=5).map(",".join),
    header_text,
)
# Proxies: none trusted (the client is REMOTE_ADDR), one in front (TRUSTED_PROXY_COUNT=1), or
# the proxies' networks (TRUSTED_PROXIES).
proxies = st.sampled_from(["none", "count", "networks"])
hosts = st.sampled_from(["testserver", "localhost", "127.0.0.1", "[::1]", "LOCALHOST",
                         "localhost.", "localhost:8000", "127.0.0.1:65535", "[::1]:443",
                         "TestServer:1", "localhost:99999999999999999999"])  # fmt: skip
cookie_names = st.one_of(
    st.sampled_from(["tz", "sessionid", "csrftoken", "messages", "django_language", "__Host-x"]),
    header_text,
)
cookie_pairs = st.lists(st.tuples(cookie_names, header_text), max_size=6).map(
    lambda pairs: "; ".join(f"{name}={value}" for name, value in pairs)
)
cookie_garbage = st.one_of(
    cookie_pairs,
    header_text,
    st.sampled_from(['sessionid="\\000\\000\\000\\000\\000\\000\\000\\000"',
                     "sessionid=" + "a" * 4000, "csrftoken=" + "\x00" * 64, "messages=x:y:z",
                     'messages="\\"[1,2]\\""', "=;=;=", "tz", ";;;;"]),
)  # fmt: skip
content_types = st.one_of(
    st.sampled_from(["", "text/plain", "application/json", "application/octet-stream",
                     "application/x-www-form-urlencoded",
                     "application/x-www-form-urlencoded; charset=utf-16",
                     "application/x-www-form-urlencoded; charset=bogus",
                     "application/x-www-form-urlencoded; charset*=utf-8''%FF%FE",
                     "multipart/form-data", "multipart/form-data; boundary=",
                     "multipart/form-data; boundary=x", "multipart/mixed; boundary=--",
                     "text/plain; a*=bogus''x", "text/plain; charset*=utf-8''utf-8%00",
                     "text/plain; charset=utf-8\x00", ";;;", "/", "x" * 5000]),
    header_text,
)  # fmt: skip
stripe_signatures = st.one_of(
    header_text,
    st.sampled_from(["t=,v1=", "t=abc,v1=00", "v1=00", "t=1", ",,,", "t=1,v1=é", "=" * 300,
                     "t=99999999999999999999999,v1=00", "t=-1,v1=" + "0" * 64]),
)  # fmt: skip


@st.composite
def hostile_headers(draw) -> dict:
    """What the request carries besides its body, as WSGI environ entries."""
    # One request in eight may hold control characters; the rest hold what gunicorn passes.
    dirty = draw(st.integers(min_value=0, max_value=7)) == 0
    headers = {
        "HTTP_ACCEPT_LANGUAGE": draw(accept_language),
        "HTTP_HOST": draw(hosts),
        "HTTP_COOKIE": f"tz={draw(tz_cookie)}; {draw(cookie_garbage)}",
        "proxies": draw(proxies),
    }
    if draw(st.booleans()):
        headers["HTTP_X_FORWARDED_FOR"] = draw(forwarded_for)
    if draw(st.booleans()):
        headers["HTTP_ACCEPT"] = draw(st.sampled_from(["application/json", "*/*", "text/html"]))
    if draw(st.booleans()):
        headers["HTTP_HX_REQUEST"] = draw(st.sampled_from(["true", "1", ""]))
    for header in ("HTTP_USER_AGENT", "HTTP_REFERER", "HTTP_X_FORWARDED_PROTO", "HTTP_ORIGIN"):
        if draw(st.booleans()):
            headers[header] = draw(
                st.one_of(st.sampled_from(["https", "http://testserver/", "null"]), header_text)
            )
    if not dirty:
        headers = {name: CONTROL.sub("", value) for name, value in headers.items()}
    return headers


# --- The pages ---------------------------------------------------------------------------

# (method, path, body) with names the fixtures fill in; a body of None is drawn.
PAGES = {
    "public form": ("GET", "/f/{form}/"),
    "public form sent": ("POST", "/f/{form}/"),
    "booking page": ("GET", "/book/{calendar}/"),
    "booking sent": ("POST", "/book/{calendar}/"),
    "pay page": ("GET", "/pay/{open}/"),
    "pay intent": ("POST", "/pay/{open}/intent/"),
    "pay return": ("GET", "/pay/{open}/return/"),
    "pay return, paid": ("GET", "/pay/{paid}/return/"),
    "pay done": ("GET", "/pay/{paid}/done/"),
    "pay page, paid": ("GET", "/pay/{paid}/"),
    "webhook": ("POST", "/hooks/stripe/{endpoint}/"),
    "login page": ("GET", "/accounts/login/"),
    "login sent": ("POST", "/accounts/login/"),
    "password reset page": ("GET", "/accounts/password-reset/"),
    "password reset sent": ("POST", "/accounts/password-reset/"),
    "password reset done": ("GET", "/accounts/password-reset/sent/"),
    "password reset link": ("GET", "/accounts/reset/{uid}/set-password/"),
    "password reset complete": ("GET", "/accounts/reset/done/"),
    "oauth callback": ("GET", "/stripe/oauth/callback/?state={state}&code=ac_x&error={error}"),
    "healthz": ("GET", "/healthz/"),
    "home": ("GET", "/"),
}
BODIES = {
    "public form sent": {"name": "Jane Cooper", "email": "jane@example.com", "lead_value": "1"},
    "booking sent": {
        "slot": "2030-01-07T09:30:00-05:00",
        "email": "jane@example.com",
        "name": "Jane Cooper",
    },  # fmt: skip
    "login sent": {"username": "staff@acme.test", "password": "wrong"},
    "password reset sent": {"email": "staff@acme.test"},
}


@pytest.fixture
def pages(workspace, connection, contact, staff, stripe_client):
    """The public pages' paths: a form, a calendar, an open link (its intent made, with
    bookings) and a paid one, a webhook endpoint."""
    form = FormFactory(workspace=workspace, slug="hostile-headers")
    calendar = CalendarFactory(workspace=workspace, slug="hostile-headers", weekdays=False)
    for day in range(7):
        AvailabilityFactory(calendar=calendar, weekday=day, start_time=dt.time(0),
                            end_time=dt.time(23, 30))  # fmt: skip
    start = timezone.now().replace(microsecond=0) + dt.timedelta(days=2)
    bookings = [AppointmentFactory(calendar=calendar, contact=contact, starts_at=start)]
    open_link = payment_link_create(workspace=workspace, contact=contact, amount=7499,
                                    currency="usd", description="Visits",
                                    appointments=bookings)  # fmt: skip
    payment_link_checkout(link=open_link)
    paid_link = payment_link_create(workspace=workspace, contact=contact, amount=2500,
                                    currency="usd", description="Paid visit")  # fmt: skip
    paid, _ = payment_link_checkout(link=paid_link)
    stripe_client.v1.payment_intents.confirm(
        paid.stripe_payment_intent_id, params={"payment_method": "pm_card_visa"}
    )
    payment_refresh(payment=paid)
    paid_link.refresh_from_db()
    assert paid_link.status == "paid"
    return {
        "form": form.slug,
        "calendar": calendar.slug,
        "open": open_link.token,
        "paid": paid_link.token,
        "endpoint": webhook_endpoint(connection).uuid,
        "staff": staff,
    }


class GuardedHandler:
    """The test client's handler behind portal.wsgi's guard, as the server runs Django."""

    def __init__(self, handler) -> None:
        self.handler = handler

    def __call__(self, environ):
        reason = malformed_request(environ)
        if reason is not None:
            response = HttpResponseBadRequest(reason, content_type="text/plain")
            response.wsgi_request = HttpRequest()  # Django could not build the real one
            return response
        return self.handler(environ)


def _client(signed_in, staff, enforce_csrf) -> Client:
    client = Client(enforce_csrf_checks=enforce_csrf)
    client.handler = GuardedHandler(client.handler)
    if signed_in:
        client.force_login(staff)
    return client


# What an answer must never show: a traceback, an exception's name and message, a path of
# the code or the installed packages.
LEAKS = re.compile(
    r"Traceback \(most recent call last\)|File \"[^\"]*\", line \d+|site-packages|"
    r"Exception (Type|Value)|\b(Value|Key|Type|Attribute|Lookup|UnicodeDecode|Integrity|Data|"
    r"Operational)Error\b|/work/|\.py\b"
)


def _send(client, page: str, paths: dict, headers: dict, content_type: str, body, extra):
    method, path = PAGES[page]
    path = path.format(uid=extra["uid"], state=extra["state"], error=extra["error"], **paths)
    environ = {k: v for k, v in headers.items() if k != "proxies"}
    if "sessionid" in client.cookies:  # signed in: the session first, the garbage after it
        session = client.cookies["sessionid"].value
        environ["HTTP_COOKIE"] = f"sessionid={session}; {environ['HTTP_COOKIE']}"
    environ["REMOTE_ADDR"] = "10.0.0.5" if headers["proxies"] != "none" else "203.0.113.50"
    if page == "webhook":
        environ["HTTP_STRIPE_SIGNATURE"] = extra["signature"]
    if method == "GET":
        return client.get(path, **environ)
    if body is None:
        body = urlencode(BODIES.get(page, {})).encode()
    # generic() sends the bytes as they are, whatever charset the Content-Type names
    return client.generic("POST", path, body, content_type, **environ)


def _check(response) -> None:
    assert response.status_code < 500, response.status_code
    body = b"" if response.streaming else response.content
    found = LEAKS.search(body.decode("utf-8", "replace"))
    assert found is None, f"the answer shows {found[0]!r}"


# The examples' quiet parts, around the one thing each is about.
PLAIN = {"HTTP_HOST": "testserver", "HTTP_COOKIE": "", "HTTP_ACCEPT_LANGUAGE": "",
         "proxies": "none"}  # fmt: skip
EXTRA = {"signature": "", "uid": "MQ", "state": "", "error": "", "enforce_csrf": False}


@pytest.mark.slow
@pytest.mark.parametrize("page", list(PAGES))
@PROPERTY
@given(
    headers=hostile_headers(),
    content_type=content_types,
    body=st.one_of(st.none(), st.binary(max_size=500)),
    signed_in=st.booleans(),
    extra=st.fixed_dictionaries(
        {
            "signature": stripe_signatures,
            "uid": st.one_of(st.just("MQ"), st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ-_=", max_size=30)),
            "state": st.sampled_from(["", "x", "%00", "a" * 300]),
            "error": st.sampled_from(["", "access_denied"]),
            "enforce_csrf": st.booleans(),
        }
    ),
)
@example(  # Django itself cannot parse these: portal.wsgi answers 400
    headers=PLAIN, content_type="text/plain; a*=bogus''x", body=None, signed_in=False, extra=EXTRA
)
@example(
    headers=PLAIN,
    content_type="text/plain; charset*=utf-8''utf-8%00",
    body=None,
    signed_in=False,
    extra=EXTRA,
)
@example(  # a session key with NULs (a quoted cookie's escapes): PostgreSQL refused the query
    headers={**PLAIN, "HTTP_COOKIE": 'tz=Africa/Abidjan; sessionid="' + "\\000" * 8 + '"'},
    content_type="", body=None, signed_in=False, extra=EXTRA,
)  # fmt: skip
@example(  # a NUL in a header: the log-in attempt keeps the User-Agent, PostgreSQL refused it
    headers={**PLAIN, "HTTP_USER_AGENT": "a\x00b"}, content_type="", body=None,
    signed_in=False, extra=EXTRA,
)  # fmt: skip
@example(  # a zone in the client's address: no client's address, and PostgreSQL refuses it
    headers={**PLAIN, "HTTP_X_FORWARDED_FOR": "fe80::1%<script>", "proxies": "count"},
    content_type="application/x-www-form-urlencoded", body=None, signed_in=True, extra=EXTRA,
)  # fmt: skip
def test_no_public_page_answers_5xx_or_shows_a_traceback(
    settings, pages, page, headers, content_type, body, signed_in, extra
):
    proxies = headers["proxies"]
    settings.TRUSTED_PROXY_COUNT = 1 if proxies == "count" else 0
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "2001:db8::/32"] if proxies == "networks" else []
    cache.clear()  # rate limits are not what this is about: every example is let through
    with example_savepoint():
        client = _client(signed_in, pages["staff"], extra["enforce_csrf"])
        response = _send(client, page, pages, headers, content_type, body, extra)
        refused = response.content.startswith(b"Malformed") if response.status_code == 400 else ""
        event(f"answered {response.status_code}{' by portal.wsgi' if refused else ''}")
        _check(response)


@pytest.mark.parametrize(
    "content_type", ["text/plain; a*=bogus''x", "text/plain; charset*=utf-8''utf-8%00"]
)
def test_the_server_answers_400_to_a_content_type_django_cannot_parse(content_type):
    """portal.wsgi.application itself, as gunicorn calls it."""
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/accounts/login/",
               "CONTENT_TYPE": content_type, "CONTENT_LENGTH": "3",
               "wsgi.input": io.BytesIO(b"a=b")}  # fmt: skip
    setup_testing_defaults(environ)
    answers = []
    body = b"".join(application(environ, lambda status, headers: answers.append(status)))
    assert answers == ["400 Bad Request"] and body == b"Malformed Content-Type header.\n"


def test_the_server_answers_400_to_a_control_character_in_a_header():
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/accounts/login/",
               "HTTP_USER_AGENT": "a\x00b"}  # fmt: skip
    setup_testing_defaults(environ)
    answers = []
    body = b"".join(application(environ, lambda status, headers: answers.append(status)))
    assert answers == ["400 Bad Request"] and body == b"Malformed User-Agent header.\n"


@pytest.mark.django_db(databases=[])
def test_the_server_passes_a_well_formed_request_to_django():
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/healthz/"}
    setup_testing_defaults(environ)
    environ["HTTP_HOST"] = "localhost"
    answers = []
    body = b"".join(application(environ, lambda status, headers: answers.append(status)))
    assert answers == ["200 OK"] and b'"ok"' in body


def test_an_address_with_a_zone_is_no_clients_address(rf, settings):
    from portal.ratelimit import client_address

    settings.TRUSTED_PROXY_COUNT = 1
    for written in ("fe80::1%eth0", "::1%<script>", "fe80::1%\x00"):
        request = rf.get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR=written)
        assert client_address(request) == "10.0.0.5"
    request = rf.get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="2001:DB8:0::1")
    assert client_address(request) == "2001:db8::1"  # one address, one spelling


def test_a_session_key_django_could_not_have_made_is_no_session():
    from portal.sessions import SessionStore

    for key in ("\x00" * 8, "abcdefgh\x00", "A" * 32, "é" * 32, "a" * 41, "a b c d e f"):
        store = SessionStore(session_key=key)
        assert store.session_key is None and store.load() == {}
    ours = SessionStore()
    ours["seen"] = True
    ours.save()
    assert SessionStore(session_key=ours.session_key).load() == {"seen": True}
