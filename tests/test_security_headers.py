"""Every HTML page carries a Content-Security-Policy that forbids framing; production cookies
are secure and HSTS is on."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from automation.models import Calendar, Form
from billing.models import PaymentLink
from portal.csp import DEFAULT_POLICY
from tests.portal.test_settings import PRODUCTION, _manage
from tests.test_access import PAGES, _objects, _url

pytestmark = pytest.mark.django_db

GET_PAGES = sorted(name for name, (_, _, get, _) in PAGES.items() if get == 200)  # HTML pages


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


def test_every_workspace_page_carries_the_policy(objects, owner, as_user):
    client = as_user(owner)
    for name in GET_PAGES:
        url = _url(name, PAGES[name][1], objects)
        _assert_protected(client.get(url), url)
        _assert_protected(client.get(url, headers={"HX-Request": "true"}), f"htmx {url}")


def test_pages_without_stripe_js_get_the_portal_only_policy(objects, owner, as_user):
    response = as_user(owner).get(reverse("contact_list", args=["acme"]))

    assert response["Content-Security-Policy"] == DEFAULT_POLICY
    directives = _directives(response)
    assert directives["script-src"] == ["'self'"] and directives["style-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"] and directives["frame-src"] == ["'none'"]


def test_the_public_pages_carry_the_policy(objects, client):
    form = Form.objects.get(uuid=objects["form"][1])
    calendar = Calendar.objects.get(uuid=objects["calendar"][1])
    link = PaymentLink.objects.get(uuid=objects["payment_link"][1])
    for url in [
        reverse("login"),
        reverse("password_reset"),
        reverse("public_form", args=[form.slug]),
        reverse("public_booking", args=[calendar.slug]),
        reverse("public_pay", args=[link.token]),
    ]:
        _assert_protected(client.get(url), url)


def test_stripe_js_pages_allow_stripe_and_still_forbid_framing(objects, owner, as_user, client):
    link = PaymentLink.objects.get(uuid=objects["payment_link"][1])
    charge = _url("contact_charge", "contact", objects) + "?tab=new"
    for response in [client.get(link.get_absolute_url()), as_user(owner).get(charge)]:
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
