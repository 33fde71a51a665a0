"""Two-factor sign-in: set-up needs a code from the app, logging in then needs a code (wrong
ones refused and limited, recovery codes once each), workspaces may require it of members who
can move money, and operators can reset a lost device."""

from __future__ import annotations

import re
from base64 import b32decode
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.two_factor import enrolment_start, two_factor_enable, two_factor_enabled
from portal.views.two_factor import ENROLMENT_KEY
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

START = timezone.now().replace(microsecond=0)


@pytest.fixture
def clock():
    """Time pinned, moving only when a test moves it (codes change every 30 s)."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def _code(secret: str, *, steps: int = 0) -> str:
    """What the authenticator app shows now for the base32 `secret` (`steps` of 30 s on)."""
    totp = TOTP(b32decode(secret.replace(" ", "")))
    totp.time = totp.time + 30 * steps
    return f"{totp.token():06d}"


def _secret_on(page) -> str:
    return re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', page.text)[1].replace(" ", "")


def _codes_on(page) -> list[str]:
    return re.findall(r"<li><code>([a-z2-7]{8})</code></li>", page.text)


def _enrolled(user) -> tuple[str, list[str]]:
    """Two-factor sign-in turned on for `user` directly: its base32 secret, its recovery codes."""
    enrolment = enrolment_start(user)
    device, codes = two_factor_enable(user, enrolment.key, _code(enrolment.secret))
    assert device.confirmed
    return enrolment.secret, codes


def _log_in(client, user, next_url: str = "") -> None:
    data = {"username": user.username, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    response = client.post(reverse("login"), data)
    assert response.status_code == 302, response.text


def _verify_url(next_url: str) -> str:
    return f"{reverse('two_factor_verify')}?next={next_url.replace('/', '%2F')}"


# --- set-up --------------------------------------------------------------------------------


def test_set_up_shows_a_qr_code_and_the_secret_and_turns_on_only_with_the_apps_code(
    owner, as_user, clock
):
    client = as_user(owner)
    page = client.get(reverse("two_factor_setup"))
    secret = _secret_on(page)

    assert page.status_code == 200
    assert "<svg" in page.text and "otpauth" not in page.text  # the QR code is drawn inline
    assert len(secret) == 32  # 160 bits, base32
    again = client.get(reverse("two_factor_setup"))
    assert _secret_on(again) == secret  # a reload offers the same secret until it is confirmed

    wrong = client.post(reverse("two_factor_setup"), {"code": _code(secret, steps=5)})
    assert wrong.status_code == 200
    assert "That code does not match" in wrong.text
    assert not TOTPDevice.objects.exists() and not two_factor_enabled(owner)

    done = client.post(reverse("two_factor_setup"), {"code": _code(secret)})

    assert done.status_code == 200
    codes = _codes_on(done)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert "shown only this once" in done.text
    assert done["Cache-Control"] == "no-store"
    assert 'download="agency-portal-recovery-codes.txt"' in done.text
    device = TOTPDevice.objects.get(user=owner)
    assert device.confirmed and two_factor_enabled(owner)
    assert sorted(StaticToken.objects.values_list("token", flat=True)) == sorted(codes)
    assert ENROLMENT_KEY not in client.session
    # The session that set it up counts as verified: the portal opens at once.
    assert client.get(reverse("workspace_home", args=["acme"])).status_code == 200


def test_after_set_up_no_page_shows_the_secret_or_the_recovery_codes(owner, as_user, clock):
    client = as_user(owner)
    secret = _secret_on(client.get(reverse("two_factor_setup")))
    codes = _codes_on(client.post(reverse("two_factor_setup"), {"code": _code(secret)}))
    key = TOTPDevice.objects.get(user=owner).key

    for name in ["two_factor", "two_factor_setup", "two_factor_codes", "two_factor_disable"]:
        page = client.get(reverse(name), follow=True)
        assert page.status_code == 200, name
        shown = [s for s in [secret, key, secret[:12], *codes] if s in page.text]
        assert shown == [], name
    assert "10 of 10 recovery codes left" in client.get(reverse("two_factor")).text


def test_set_up_refuses_what_is_not_six_digits_next_to_the_field(owner, as_user):
    client = as_user(owner)
    client.get(reverse("two_factor_setup"))

    for typed in ["", "12345", "abcdef", "1234567"]:
        response = client.post(reverse("two_factor_setup"), {"code": typed})
        assert response.status_code == 200
        assert 'aria-invalid="true"' in response.text, typed
    assert not TOTPDevice.objects.exists()


# --- logging in ----------------------------------------------------------------------------


def test_logging_in_with_two_factor_asks_for_the_code_before_any_page(client, owner, clock):
    secret, _ = _enrolled(owner)
    workspace_url = reverse("workspace_home", args=["acme"])
    _log_in(client, owner, workspace_url)

    # Half logged in: every page of the portal sends to the code page, coming back after.
    pages = [workspace_url, reverse("home"), reverse("two_factor"), reverse("admin:index")]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 302 and response.url == _verify_url(url), url
    contacts = reverse("contact_list", args=["acme"])
    hx = client.get(f"{contacts}?q=jane", HTTP_HX_REQUEST="true",
                    HTTP_HX_CURRENT_URL=f"http://testserver{contacts}")  # fmt: skip
    assert hx.status_code == 200 and hx["HX-Redirect"] == _verify_url(contacts)

    page = client.get(_verify_url(workspace_url))
    assert page.status_code == 200 and 'autocomplete="one-time-code"' in page.text
    clock.shift(timedelta(seconds=60))  # not the code that set it up: a new one
    response = client.post(
        reverse("two_factor_verify"), {"code": _code(secret), "next": workspace_url}
    )

    assert response.status_code == 302 and response.url == workspace_url
    assert client.get(workspace_url).status_code == 200
    # The same code once more is refused (a code works once): log in again elsewhere.
    other = Client()
    _log_in(other, owner)
    again = other.post(reverse("two_factor_verify"), {"code": _code(secret)})
    assert again.status_code == 200 and "That code is not right" in again.text


def test_a_wrong_code_is_refused_and_after_five_the_code_page_waits(client, owner, clock):
    secret, _ = _enrolled(owner)
    _log_in(client, owner)
    clock.shift(timedelta(seconds=60))
    url = reverse("two_factor_verify")

    wrong = client.post(url, {"code": _code(secret, steps=10)})
    assert wrong.status_code == 200 and "That code is not right" in wrong.text
    assert client.get(reverse("home")).url.startswith(url)
    # django-otp throttles the device: right after a wrong code even the right one waits.
    assert "That code is not right" in client.post(url, {"code": _code(secret)}).text
    for _ in range(3):
        clock.shift(timedelta(seconds=40))
        client.post(url, {"code": "000000"})
    clock.shift(timedelta(minutes=5))  # django-otp's own wait is over, the rate limit's is not

    limited = client.post(url, {"code": _code(secret)})

    assert limited.status_code == 429
    assert "Too many wrong codes: wait 15 minutes" in limited.text
    assert client.get(reverse("home")).url.startswith(url)
    cache.clear()  # the 15 minutes over (a Redis cache keeps the real time, not the test's)
    assert client.post(url, {"code": _code(secret)}).status_code == 302
    assert client.get(reverse("home")).status_code == 302  # now to the workspace
    assert client.get(reverse("workspace_home", args=["acme"])).status_code == 200


def test_a_recovery_code_logs_in_once(owner, clock):
    _, codes = _enrolled(owner)
    first, second = Client(), Client()
    _log_in(first, owner)
    used = first.post(reverse("two_factor_verify"), {"code": codes[0].upper()})
    assert used.status_code == 302
    assert first.get(reverse("workspace_home", args=["acme"])).status_code == 200
    assert StaticToken.objects.count() == 9

    _log_in(second, owner)
    again = second.post(reverse("two_factor_verify"), {"code": codes[0]})
    assert again.status_code == 200 and "That code is not right" in again.text
    clock.shift(timedelta(seconds=5))  # past django-otp's wait after the wrong code
    spaced = f"{codes[1][:4]} {codes[1][4:]}"  # as people copy it, in two groups
    assert second.post(reverse("two_factor_verify"), {"code": spaced}).status_code == 302


def test_users_without_two_factor_log_in_as_before(client, staff):
    _log_in(client, staff)
    assert client.get(reverse("workspace_home", args=["acme"])).status_code == 200
    assert client.get(reverse("two_factor_verify")).status_code == 302  # nothing to ask


# --- recovery codes and turning it off -----------------------------------------------------


def test_new_recovery_codes_need_a_current_code_and_replace_the_old_ones(owner, as_user, clock):
    client = as_user(owner)
    secret = _secret_on(client.get(reverse("two_factor_setup")))
    old = _codes_on(client.post(reverse("two_factor_setup"), {"code": _code(secret)}))
    url = reverse("two_factor_codes")

    refused = client.post(url, {"code": "123456"})
    assert refused.status_code == 200 and "That code is not right" in refused.text
    clock.shift(timedelta(seconds=60))
    made = client.post(url, {"code": _code(secret)})

    new = _codes_on(made)
    assert len(new) == 10 and not set(new) & set(old)
    assert sorted(StaticToken.objects.values_list("token", flat=True)) == sorted(new)


def test_turning_it_off_needs_a_current_code_and_the_box_ticked(owner, as_user, clock):
    client = as_user(owner)
    secret = _secret_on(client.get(reverse("two_factor_setup")))
    client.post(reverse("two_factor_setup"), {"code": _code(secret)})
    url = reverse("two_factor_disable")
    clock.shift(timedelta(seconds=60))

    unticked = client.post(url, {"code": _code(secret)})
    assert "Tick the box to confirm." in unticked.text and two_factor_enabled(owner)
    wrong = client.post(url, {"code": "654321", "confirm": "on"})
    assert "That code is not right" in wrong.text and two_factor_enabled(owner)
    clock.shift(timedelta(seconds=60))
    off = client.post(url, {"code": _code(secret), "confirm": "on"})

    assert off.status_code == 302 and off.url == reverse("two_factor")
    assert not TOTPDevice.objects.exists() and not StaticDevice.objects.exists()
    assert "Off" in client.get(reverse("two_factor")).text


# --- workspaces that require it ------------------------------------------------------------


@pytest.fixture
def requiring(workspace):
    workspace.require_two_factor = True
    workspace.save()
    return workspace


def test_a_workspace_requiring_it_sends_an_owner_without_it_to_set_it_up(
    requiring, owner, as_user, clock
):
    client = as_user(owner)
    url = reverse("contact_list", args=["acme"])

    response = client.get(url)

    setup = f"{reverse('two_factor_setup')}?workspace=acme&next={url.replace('/', '%2F')}"
    assert response.status_code == 302 and response.url == setup
    assert client.post(url).url == f"{reverse('two_factor_setup')}?workspace=acme"
    page = client.get(setup)
    assert "This workspace requires two-factor sign-in: set it up to continue." in page.text
    assert "Acme asks it of every member who can charge customers" in page.text
    # The user's other pages stay open; the workspace's pages wait for the set-up.
    assert client.get(reverse("two_factor")).status_code == 200

    done = client.post(setup, {"code": _code(_secret_on(page)), "next": url, "workspace": "acme"})
    assert f'href="{url}"' in done.text  # "continue" goes back to the page asked for
    assert client.get(url).status_code == 200


def test_a_workspace_requiring_it_asks_an_enrolled_owner_for_the_code(
    requiring, owner, as_user, clock
):
    _enrolled(owner)
    client = as_user(owner)  # logged in without a code, as force_login does

    response = client.get(reverse("workspace_home", args=["acme"]))

    assert response.status_code == 302 and response.url.startswith(reverse("two_factor_verify"))


@pytest.mark.parametrize("persona", ["viewer", "payer", "norole"])
def test_a_workspace_requiring_it_lets_members_who_cannot_move_money_through(
    persona, requiring, request, as_user
):
    client = as_user(request.getfixturevalue(persona))
    assert client.get(reverse("workspace_home", args=["acme"])).status_code == 200


def test_staff_who_can_charge_are_asked_too(requiring, staff, as_user):
    response = as_user(staff).get(reverse("workspace_home", args=["acme"]))
    assert response.url.startswith(reverse("two_factor_setup") + "?workspace=acme")


def test_other_workspaces_are_not_affected(requiring, outsider, as_user):
    assert as_user(outsider).get(reverse("workspace_home", args=["globex"])).status_code == 200


def test_the_owner_turns_the_requirement_on_in_the_workspace_settings(workspace, owner, as_user):
    client = as_user(owner)
    url = reverse("workspace_settings", args=["acme"])
    page = client.get(url)
    assert "Require two-factor sign-in for members who can charge, manage Stripe" in page.text

    saved = client.post(url, {"notify_admins_of_payments": "on", "require_two_factor": "on"})

    workspace.refresh_from_db()
    assert saved.status_code == 302 and workspace.require_two_factor
    # ...and is the first to be asked to set it up.
    assert client.get(saved.url).url.startswith(reverse("two_factor_setup") + "?workspace=acme")


def test_turning_it_off_warns_of_the_workspaces_that_require_it(requiring, owner, as_user, clock):
    client = as_user(owner)
    secret = _secret_on(client.get(reverse("two_factor_setup")))
    client.post(reverse("two_factor_setup"), {"code": _code(secret)})

    page = client.get(reverse("two_factor_disable"))

    assert "Acme requires" in page.text and "set it up again" in page.text


# --- operators: a lost device --------------------------------------------------------------


def test_the_reset_command_removes_the_users_devices_and_says_so(client, owner, clock):
    _enrolled(owner)
    out = StringIO()

    call_command("two_factor_reset", owner.username, stdout=out)

    assert "Removed 2 two-factor devices of owner@acme.test" in out.getvalue()
    assert not TOTPDevice.objects.exists() and not StaticDevice.objects.exists()
    _log_in(client, owner)  # the password alone again
    assert client.get(reverse("workspace_home", args=["acme"])).status_code == 200

    again = StringIO()
    call_command("two_factor_reset", owner.username, stdout=again)
    assert "has no two-factor sign-in: nothing removed" in again.getvalue()
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        call_command("two_factor_reset", "nobody")
