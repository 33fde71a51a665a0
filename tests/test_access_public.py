"""Every URL outside w/<ws>/ x (an anonymous visitor, each persona, the outsider) x GET and POST.

A row per URL and the arguments it is tried with: the answers of an anonymous visitor and of a
logged-in user (any persona, or the outsider) to a GET and to an empty POST. The admin is one
row of its own (the tests at the end). With the rows of tests/test_access.py, every URL pattern
of the project has one: a URL added without a row fails `test_every_url_of_the_project_has_a_row`.
"""

from __future__ import annotations

import uuid

import pytest
from django.contrib import admin
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.test import Client
from django.urls import get_resolver, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from automation.models import Submission
from tests.automation.factories import CalendarFactory, FormFactory
from tests.factories import UserFactory, WebhookEndpointFactory
from tests.test_access import (
    PAGES,
    PERSONAS,
    _invitation,
    _payment_link,
    changed_models,
    db_snapshot,
    url_patterns,
)

VISITORS = ["anonymous", *PERSONAS, "outsider"]

# (url name, arguments) -> (anonymous GET, anonymous POST, logged-in GET, logged-in POST)
PUBLIC = {
    ("home", ""): (302, 302, 302, 405),
    ("healthz", ""): (200, 405, 200, 405),
    ("login", ""): (200, 200, 302, 302),
    ("password_reset", ""): (200, 200, 200, 200),
    ("password_reset_done", ""): (200, 405, 200, 405),
    ("password_reset_confirm", "bad reset link"): (200, 200, 200, 200),
    # A good link moves its token into the session, then the form asks for the new password.
    ("password_reset_confirm", "reset link"): (302, 302, 302, 302),
    ("password_reset_confirm", "set-password"): (200, 200, 200, 200),
    ("password_reset_complete", ""): (200, 405, 200, 405),
    # An invitation to an address no persona has: a visitor may choose a password (an empty
    # form changes nothing); a logged-in user with another address is refused.
    ("invitation_detail", "invitation"): (200, 200, 403, 403),
    ("invitation_detail", "unknown token"): (404, 404, 404, 404),
    ("invitation_accept", "invitation"): (405, 302, 405, 403),
    ("invitation_accept", "unknown token"): (405, 302, 405, 404),
    ("invitation_decline", "invitation"): (405, 302, 405, 403),
    ("public_form", "form"): (200, 200, 200, 200),
    ("public_form", "unknown slug"): (404, 404, 404, 404),
    ("public_booking", "calendar"): (200, 200, 200, 200),
    ("public_booking", "unknown slug"): (404, 404, 404, 404),
    ("public_pay", "link"): (200, 405, 200, 405),
    ("public_pay", "unknown token"): (404, 405, 404, 405),
    ("public_pay_intent", "link"): (405, 200, 405, 200),
    ("public_pay_intent", "unknown token"): (405, 404, 405, 404),
    ("public_pay_return", "link"): (302, 405, 302, 405),
    ("public_pay_return", "unknown token"): (404, 405, 404, 405),
    ("public_pay_done", "link"): (302, 405, 302, 405),
    ("public_pay_done", "unknown token"): (404, 405, 404, 405),
    ("stripe_webhook", "endpoint"): (405, 400, 405, 400),
    ("stripe_webhook", "unknown endpoint"): (405, 404, 405, 404),
    # Not configured in tests (no STRIPE_CONNECT_WEBHOOK_SECRET): 404 for any POST.
    ("stripe_connect_webhook", ""): (405, 404, 405, 404),
    ("stripe_oauth_callback", ""): (302, 302, 400, 405),
    # Two-factor sign-in, for users who have not set it up (the personas): the account page
    # and set-up answer, the rest send to the account page, the code page to the portal.
    ("two_factor", ""): (302, 302, 200, 405),
    ("two_factor_setup", ""): (302, 302, 200, 200),
    ("two_factor_codes", ""): (302, 302, 302, 302),
    ("two_factor_disable", ""): (302, 302, 302, 302),
    ("two_factor_verify", ""): (302, 302, 302, 302),
    ("logout", ""): (405, 302, 405, 302),  # last: it ends the session
}
# The rows whose answers write: the link's one PaymentIntent, and what Stripe says of it.
WRITES = {("public_pay_intent", "link"), ("public_pay_return", "link")}


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()


@pytest.fixture
def arguments(workspace, connection):
    link = _payment_link(workspace, connection)
    # Not a persona: logging in changes a user's reset tokens.
    forgetful = UserFactory(username="forgetful@acme.test")
    uidb64 = urlsafe_base64_encode(force_bytes(forgetful.pk))
    return {
        "": {},
        "form": {"slug": FormFactory(workspace=workspace).slug},
        "calendar": {"slug": CalendarFactory(workspace=workspace).slug},
        "unknown slug": {"slug": "no-such-page"},
        "link": {"token": link.token},
        "invitation": {"token": _invitation(workspace).token},
        "unknown token": {"token": "no-such-token"},
        "endpoint": {"endpoint_uuid": WebhookEndpointFactory(connection=connection).uuid},
        "unknown endpoint": {"endpoint_uuid": uuid.uuid4()},
        "reset link": {"uidb64": uidb64, "token": default_token_generator.make_token(forgetful)},
        "set-password": {"uidb64": uidb64, "token": "set-password"},
        "bad reset link": {"uidb64": uidb64, "token": "bad-token"},
    }


def _visitor(request, as_user, visitor: str) -> Client:
    """A browser of its own, from an address of its own (the public pages limit per address)."""
    client = Client() if visitor == "anonymous" else as_user(request.getfixturevalue(visitor))
    client.defaults["REMOTE_ADDR"] = f"198.51.100.{VISITORS.index(visitor) + 1}"
    return client


@pytest.mark.parametrize("visitor", VISITORS)
def test_each_visitor_gets_each_public_rows_answers_and_changes_nothing(
    visitor, request, arguments, as_user
):
    client = _visitor(request, as_user, visitor)
    column = 0 if visitor == "anonymous" else 2
    wrong = []
    state = db_snapshot()
    for (name, args), answers in PUBLIC.items():
        url = reverse(name, kwargs=arguments[args])
        statuses = client.get(url).status_code, client.post(url).status_code
        if statuses != answers[column : column + 2]:
            wrong.append(f"{name} ({args}): GET, POST {statuses}, expected {answers}")
        if (name, args) in WRITES:
            state = db_snapshot()
        elif changed := changed_models(state):
            wrong.append(f"{name} ({args}) changed {changed}")
            state = db_snapshot()
    assert wrong == [], visitor


def test_every_url_of_the_project_has_a_row():
    rows = {name for name, _ in PUBLIC}
    missing = []
    for full, pattern, namespace in url_patterns(get_resolver().url_patterns):
        if namespace == "admin":
            continue  # one row: the tests below
        in_workspace = full.startswith("w/<slug:ws>/")
        if pattern.name not in (PAGES if in_workspace else rows):
            missing.append(full)
    assert missing == [], "add rows to tests/test_access.py or tests/test_access_public.py"


def test_home_sends_each_member_to_their_workspace_and_visitors_to_log_in(
    request, outsider, as_user, client
):
    for persona in PERSONAS:
        response = as_user(request.getfixturevalue(persona)).get(reverse("home"))
        assert response["Location"] == "/w/acme/", persona
    assert as_user(outsider).get(reverse("home"))["Location"] == "/w/globex/"
    assert client.get(reverse("home"))["Location"].startswith(reverse("login"))


def test_an_empty_form_or_booking_comes_back_with_its_errors_and_saves_nothing(workspace, client):
    form, calendar = FormFactory(workspace=workspace), CalendarFactory(workspace=workspace)
    before = db_snapshot()

    sent = client.post(reverse("public_form", args=[form.slug]))
    # What a browser sends for the booking form left blank (an empty body leaves it unbound).
    blank = {"slot": "", "name": "", "email": "", "phone": ""}
    booked = client.post(reverse("public_booking", args=[calendar.slug]), blank)

    assert sent.status_code == 200 and booked.status_code == 200
    assert sent.text.count("This field is required") == 2  # name and e-mail
    assert "Pick a time." in booked.text and booked.text.count("This field is required") == 2
    assert changed_models(before) == []
    assert not Submission.objects.exists()


# --- the admin: one row --------------------------------------------------------------------


def _admin_urls() -> list[str]:
    """The index, and every registered model's list and add pages."""
    urls = [reverse("admin:index")]
    for model in admin.site._registry:
        info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        urls += [reverse(f"{info}_changelist"), reverse(f"{info}_add")]
    return urls


def _is_admin_login(response) -> bool:
    login = reverse("admin:login")
    return response.status_code == 302 and response["Location"].startswith(login)


def test_the_admin_sends_anyone_without_staff_status_to_its_login(request, as_user):
    clients = {visitor: _visitor(request, as_user, visitor) for visitor in VISITORS}
    before = db_snapshot()
    index = reverse("admin:index")
    for visitor, client in clients.items():  # the admin's front door, for everyone
        assert _is_admin_login(client.get(index)) and _is_admin_login(client.post(index)), visitor
    client = clients["owner"]  # every page, for the portal's most powerful role
    for url in _admin_urls():
        assert _is_admin_login(client.get(url)) and _is_admin_login(client.post(url)), url
    assert changed_models(before) == []


def test_a_user_with_staff_status_but_no_permission_enters_no_admin_page(db, as_user):
    operator = UserFactory(username="new-operator@agency.test", is_staff=True)
    client = as_user(operator)
    before = db_snapshot()

    index = client.get(reverse("admin:index"))
    urls = _admin_urls()[1:]  # read every list, create through every add page
    refused = {url: client.get(url) if "/add/" not in url else client.post(url) for url in urls}

    assert index.status_code == 200 and "permission to view or edit anything" in index.text
    assert {url: r.status_code for url, r in refused.items() if r.status_code != 403} == {}
    assert changed_models(before) == []
