"""Stripe Connect in Chromium, as the Actionera guide walks it: Settings -> Integrations ->
Connect with Stripe -> Stripe's consent page (the sandbox's) -> Grant access (or Deny) -> back
in the portal. Chromium checks the redirect that follows the button's POST against the page's
`form-action`, so this fails if the page's Content-Security-Policy does not allow Connect's
origin; no CSP violation may be logged on the way."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from integrations.models import StripeConnection
from portal import perms
from tests.factories import MembershipFactory, RoleFactory, UserFactory, WorkspaceFactory

CLIENT_ID = "ca_browserPlatform01"


@pytest.fixture
def platform(sandbox, settings, live_server):
    """The agency's Connect platform in the sandbox; the next account it connects is queued."""
    secret, _, _ = sandbox.new_account(name="The Agency Platform")
    sandbox.control.register_platform(CLIENT_ID, secret)
    settings.STRIPE_CONNECT_CLIENT_ID = CLIENT_ID
    settings.STRIPE_CONNECT_SECRET_KEY = secret
    settings.SITE_URL = live_server.url  # Stripe sends the browser back here
    sandbox.control.set_next_connected_account(
        CLIENT_ID, {"name": "Acme Dental Clinic", "country": "US", "default_currency": "usd"}
    )
    return secret


@pytest.fixture
def stripe_admin(db):
    """Staff of Acme Dental who may also connect its Stripe account (stripe=*), but do not
    manage the workspace."""
    workspace = WorkspaceFactory(name="Acme Dental", slug="acme-dental")
    user = UserFactory(username="olivia@agency.test")
    connect = RoleFactory(workspace=workspace, name="Stripe admin", permissions=[perms.STRIPE_ALL])
    MembershipFactory(user=user, workspace=workspace, roles=[perms.STAFF, connect])
    return user


@pytest.fixture
def csp_violations(page):
    """What Chromium logs about the Content-Security-Policy, on any page of the journey."""
    logged: list[str] = []

    def keep(message) -> None:
        if "Content Security Policy" in message.text:
            logged.append(message.text)

    page.on("console", keep)
    return logged


def _to_integrations(page, live_server, login, user):
    login(page, user)
    page.goto(f"{live_server.url}/w/acme-dental/")
    page.get_by_role("navigation", name="Workspace").get_by_role("link", name="Settings").click()
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Integrations").click()
    expect(page).to_have_url(re.compile(r"/w/acme-dental/settings/integrations/$"))
    stripe = page.get_by_role("region", name="Stripe")
    expect(stripe.get_by_text("Not connected.")).to_be_visible()
    return stripe


def test_staff_connect_the_workspaces_stripe_account_through_stripe_connect(
    live_server, page, login, platform, stripe_admin, csp_violations, screenshot
):
    stripe = _to_integrations(page, live_server, login, stripe_admin)
    screenshot("connect-oauth-integrations-before")
    stripe.get_by_role("button", name="Connect with Stripe").click()

    # Stripe's consent page (the sandbox serves it at STRIPE_CONNECT_BASE).
    expect(
        page.get_by_role("heading", name="The Agency Platform wants to connect to your Stripe")
    ).to_be_visible()
    expect(page.locator("#account-name")).to_have_text("Acme Dental Clinic")
    page.get_by_role("button", name="Grant access").click()

    expect(page).to_have_url(re.compile(r"/w/acme-dental/settings/integrations/$"))
    expect(page.get_by_role("status")).to_contain_text(
        "Connected to Acme Dental Clinic through Stripe Connect."
    )
    row = page.get_by_role("region", name="Stripe").get_by_role("row", name=re.compile("Acme"))
    expect(row).to_contain_text("Acme Dental Clinic")
    expect(row).to_contain_text("Stripe Connect")
    expect(row).to_contain_text("OK")
    screenshot("connect-oauth-integrations-connected")

    connection = StripeConnection.objects.get()
    assert connection.workspace.slug == "acme-dental" and connection.connected_via == "oauth"
    assert connection.account_name == "Acme Dental Clinic"
    assert csp_violations == []


def test_denying_access_on_stripes_page_connects_nothing(
    live_server, page, login, platform, stripe_admin, csp_violations
):
    stripe = _to_integrations(page, live_server, login, stripe_admin)
    stripe.get_by_role("button", name="Connect with Stripe").click()

    page.get_by_role("button", name="Deny").click()

    expect(page).to_have_url(re.compile(r"/w/acme-dental/settings/integrations/$"))
    expect(page.get_by_role("status")).to_contain_text(
        "Stripe Connect was cancelled; nothing was connected."
    )
    expect(page.get_by_role("region", name="Stripe").get_by_text("Not connected.")).to_be_visible()
    assert not StripeConnection.objects.exists()
    assert csp_violations == []
