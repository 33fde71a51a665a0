"""Every HTML page carries a Content-Security-Policy that forbids framing, allowing the portal's
own origin only, except the pages that load Stripe.js, which also allow Stripe's (and the
sandbox's) origins, and the pages with the "Connect with Stripe" form, whose form-action also
allows Connect's (the sandbox's here); production cookies are secure and HSTS is on."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from automation.models import Calendar, Form
from billing.models import PaymentLink
from tests.portal.test_settings import PRODUCTION, _manage
from tests.test_access import PAGES, _objects, _url

pytestmark = pytest.mark.django_db

DOWNLOADS = {"workflow_export"}  # a file to save, not a page: checked on its own below
GET_PAGES = sorted(  # HTML pages
    name for name, (_, _, get, _) in PAGES.items() if get == 200 and name not in DOWNLOADS
)
STRIPE_JS_PAGES = {"contact_charge", "work_item_pay"}  # and the public pay page
CONNECT_PAGES = {"stripe_connection_create", "integrations_settings"}
# The payment link's page frames the e-mail's HTML from the portal's own address, and that
# frame (the e-mail as it arrives: its inline styles, no scripts) may be framed by it alone.
EMAIL_PREVIEW_PAGES = {"payment_link_detail"}
EMAIL_FRAMES = {"payment_link_email_html"}
EMAIL_FRAME_POLICY = {
    "default-src": ["'none'"],
    "style-src": ["'unsafe-inline'"],
    "img-src": ["data:", "http:", "https:"],
    "frame-ancestors": ["'self'"],
    "sandbox": ["allow-popups", "allow-popups-to-escape-sandbox"],
}
PORTAL_ONLY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "frame-src": ["'none'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
    "base-uri": ["'self'"],
    "object-src": ["'none'"],
}


@pytest.fixture
def objects(workspace, org_units, staff, owner, sandbox, settings):
    settings.STRIPE_CONNECT_CLIENT_ID = "ca_security_headers"
    return _objects(workspace, org_units, staff, sandbox)


def _directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in policy.split(";"))}


def _assert_protected(response, what: str) -> None:
    assert response.status_code == 200, what
    assert response["Content-Type"].startswith("text/html"), what
    assert "Content-Security-Policy" in response, what
    assert _directives(response)["frame-ancestors"] == ["'none'"], what
    assert response["X-Frame-Options"] == "DENY", what


def _assert_stripe_js_allowed(response, what: str, sandbox_url: str) -> None:
    directives = _directives(response)
    assert directives["script-src"] == ["'self'", "https://js.stripe.com", sandbox_url], what
    assert directives["connect-src"] == ["'self'", "https://api.stripe.com", sandbox_url], what
    assert directives["frame-src"] == [
        "'self'", "https://js.stripe.com", "https://hooks.stripe.com", sandbox_url
    ], what  # fmt: skip
    assert directives["img-src"] == ["'self'", "data:", "https://*.stripe.com"], what
    # Everything else as strict as on any page.
    stripe_js = {"script-src", "connect-src", "frame-src", "img-src"}
    assert {k: v for k, v in directives.items() if k not in stripe_js} == {
        k: v for k, v in PORTAL_ONLY.items() if k not in stripe_js
    }, what


def test_a_download_is_an_attachment_the_browser_never_sniffs_or_frames(objects, owner, as_user):
    for name in DOWNLOADS:
        response = as_user(owner).get(_url(name, PAGES[name][1], objects))
        assert response.status_code == 200, name
        assert response["Content-Disposition"].startswith("attachment;"), name
        assert response["X-Content-Type-Options"] == "nosniff", name
        assert response["X-Frame-Options"] == "DENY", name


def test_every_workspace_page_carries_the_policy(objects, owner, as_user, sandbox):
    client = as_user(owner)
    for name in GET_PAGES:
        url = _url(name, PAGES[name][1], objects)
        for response, what in [
            (client.get(url), url),
            (client.get(url, headers={"HX-Request": "true"}), f"htmx {url}"),
        ]:
            if name in EMAIL_FRAMES:
                assert _directives(response) == EMAIL_FRAME_POLICY, what
                assert response["X-Frame-Options"] == "SAMEORIGIN", what
                continue
            _assert_protected(response, what)
            if name in STRIPE_JS_PAGES:
                _assert_stripe_js_allowed(response, what, sandbox.url)
            elif name in EMAIL_PREVIEW_PAGES:
                assert _directives(response) == {**PORTAL_ONLY, "frame-src": ["'self'"]}, what
            elif name in CONNECT_PAGES:  # the sandbox serves Connect's authorize page
                connect = {**PORTAL_ONLY, "form-action": ["'self'", sandbox.url]}
                assert _directives(response) == connect, what
            else:  # no Stripe origin, nor the sandbox's
                assert _directives(response) == PORTAL_ONLY, what


def test_pages_without_stripe_js_get_the_portal_only_policy(objects, owner, as_user):
    response = as_user(owner).get(reverse("contact_list", args=["acme"]))

    directives = _directives(response)
    assert directives == PORTAL_ONLY
    assert directives["script-src"] == ["'self'"] and directives["style-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"] and directives["frame-src"] == ["'none'"]


def test_the_public_pages_carry_the_policy(objects, client, sandbox):
    form = Form.objects.get(uuid=objects["form"][1])
    calendar = Calendar.objects.get(uuid=objects["calendar"][1])
    link = PaymentLink.objects.get(uuid=objects["payment_link"][1])
    for url in [
        reverse("login"),
        reverse("password_reset"),
        reverse("public_form", args=[form.slug]),
        reverse("public_booking", args=[calendar.slug]),
    ]:
        response = client.get(url)
        _assert_protected(response, url)
        assert _directives(response) == PORTAL_ONLY, url
    url = reverse("public_pay", args=[link.token])
    response = client.get(url)
    _assert_protected(response, url)
    _assert_stripe_js_allowed(response, url, sandbox.url)


def test_stripe_js_pages_allow_stripe_and_still_forbid_framing(objects, owner, as_user, client):
    link = PaymentLink.objects.get(uuid=objects["payment_link"][1])
    charge = _url("contact_charge", "contact", objects) + "?tab=new"
    pay = _url("work_item_pay", "work_item", objects)
    pages = [client.get(link.get_absolute_url()), as_user(owner).get(charge)]
    for response in [*pages, as_user(owner).get(pay)]:
        _assert_protected(response, response.request["PATH_INFO"])
        directives = _directives(response)
        assert "https://js.stripe.com" in directives["script-src"]
        assert "'unsafe-inline'" not in directives["script-src"]


def test_an_error_page_carries_the_policy(owner, as_user):
    response = as_user(owner).get("/w/acme/no-such-page/")

    assert response.status_code == 404
    assert _directives(response)["frame-ancestors"] == ["'none'"]


def test_production_cookies_are_secure_and_hsts_is_on():
    code = (
        "import json; from django.conf import settings as s; print(json.dumps({k: getattr(s, k)"
        " for k in ['SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SESSION_COOKIE_HTTPONLY',"
        " 'SECURE_HSTS_SECONDS', 'SECURE_SSL_REDIRECT', 'X_FRAME_OPTIONS']}))"
    )
    result = _manage("shell", "-c", code, env=PRODUCTION)
    assert result.returncode == 0, result.stderr

    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["SESSION_COOKIE_SECURE"] and values["CSRF_COOKIE_SECURE"]
    assert values["SESSION_COOKIE_HTTPONLY"] and values["SECURE_SSL_REDIRECT"]
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["X_FRAME_OPTIONS"] == "DENY"
