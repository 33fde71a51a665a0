"""Two-factor sign-in in Chromium: an owner sets it up from the user menu (the secret read from
the page, the app's code computed here), keeps the recovery codes, logs out, and logs in again
with the password and a code."""

from __future__ import annotations

import re
import time
from base64 import b32decode
from pathlib import Path

from django_otp.oath import TOTP
from playwright.sync_api import expect

from portal import perms
from portal.two_factor import two_factor_enabled
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def _code(secret: str, at: float) -> str:
    """What the authenticator app shows at `at` (Unix time) for the base32 `secret`."""
    totp = TOTP(b32decode(secret.replace(" ", "")))
    totp.time = at
    return f"{totp.token():06d}"


def test_an_owner_sets_up_two_factor_and_logs_in_with_a_code(live_server, page, login, screenshot):
    user = UserFactory(username="olivia@agency.test")
    acme = WorkspaceFactory(name="Acme Dental", slug="acme-dental")
    MembershipFactory(user=user, workspace=acme, roles=[perms.OWNER])
    login(page, user)
    expect(page.get_by_role("heading", name="Acme Dental")).to_be_visible()

    page.get_by_role("link", name="Two-factor sign-in").click()
    expect(page.get_by_text("Logging in asks for your password only.")).to_be_visible()
    page.get_by_role("link", name="Set up two-factor sign-in").click()
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    secret = page.get_by_test_id("totp-secret").inner_text()
    assert re.fullmatch(r"([A-Z2-7]{4} ){7}[A-Z2-7]{4}", secret), secret
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "two_factor_setup.png"), full_page=True)

    page.get_by_label("Code from the app").fill(_code(secret, time.time() + 3600))  # an hour off
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_text("That code does not match")).to_be_visible()
    assert not two_factor_enabled(user)
    set_up_at = time.time()
    page.get_by_label("Code from the app").fill(_code(secret, set_up_at))
    page.get_by_role("button", name="Turn on two-factor sign-in").click()

    expect(page.get_by_text("Save these codes now: they are shown only this once.")).to_be_visible()
    codes = page.get_by_test_id("recovery-codes").locator("code").all_inner_texts()
    assert len(codes) == 10
    screenshot("two-factor-recovery-codes")
    with page.expect_download() as saved:
        page.get_by_role("link", name="Download as a text file").click()
    assert codes[0] in Path(saved.value.path()).read_text()
    page.get_by_role("link", name="I have saved them: done").click()
    expect(page.get_by_text("10 of 10 recovery codes left.")).to_be_visible()
    assert two_factor_enabled(user)

    page.get_by_role("button", name="Log out").click()
    login(page, user)
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/verify/\?next=%2F$"))
    expect(page.get_by_role("heading", name="Two-factor sign-in")).to_be_visible()
    screenshot("two-factor-verify")
    # The code that set it up was used: the app's next one (a step of 30 s on) logs in.
    page.get_by_label("Code").fill(_code(secret, set_up_at + 30))
    page.get_by_role("button", name="Continue").click()

    expect(page).to_have_url(re.compile(r"/w/acme-dental/$"))
    expect(page.get_by_role("heading", name="Acme Dental")).to_be_visible()
