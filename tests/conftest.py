"""Personas and shared fixtures.

Personas live in workspace "Acme" with the org tree /acme, /acme/Branch A, /acme/Branch B:
owner (Owner), staff (Staff), payer (Invoice Payer, Branch A), viewer (Viewer), norole (a
member without any role); outsider is the Owner of another workspace.
"""

from __future__ import annotations

import os
import shutil

import pytest
from django.test import Client

from integrations.services import connection_create_from_key
from portal import perms
from tests.factories import (
    ContactFactory,
    MembershipFactory,
    OrgUnitFactory,
    UserFactory,
    WorkspaceFactory,
)


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate-limit counts live in the cache: each test starts with none (a test process runs
    many tests from the same loopback address)."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def workspace(db):
    return WorkspaceFactory(name="Acme", slug="acme")


@pytest.fixture
def org_units(workspace):
    root = OrgUnitFactory(workspace=workspace, name="acme")
    return {
        "/acme": root,
        "/acme/Branch A": OrgUnitFactory(workspace=workspace, name="Branch A", parent=root),
        "/acme/Branch B": OrgUnitFactory(workspace=workspace, name="Branch B", parent=root),
    }


def _member(workspace, role: str | None, username: str, unit=None):
    user = UserFactory(username=username)
    MembershipFactory(user=user, workspace=workspace, org_unit=unit, roles=[role] if role else [])
    return user


@pytest.fixture
def owner(workspace, org_units):
    return _member(workspace, perms.OWNER, "owner@acme.test", org_units["/acme"])


@pytest.fixture
def staff(workspace, org_units):
    return _member(workspace, perms.STAFF, "staff@acme.test", org_units["/acme"])


@pytest.fixture
def payer(workspace, org_units):
    return _member(workspace, perms.INVOICE_PAYER, "payer@acme.test", org_units["/acme/Branch A"])


@pytest.fixture
def viewer(workspace):
    return _member(workspace, perms.VIEWER, "viewer@acme.test")


@pytest.fixture
def norole(workspace):
    return _member(workspace, None, "norole@acme.test")


@pytest.fixture
def other_workspace(db):
    return WorkspaceFactory(name="Globex", slug="globex")


@pytest.fixture
def outsider(other_workspace):
    return _member(other_workspace, perms.OWNER, "outsider@globex.test")


@pytest.fixture
def as_user():
    """`as_user(user)` -> a test client logged in as that user."""

    def login(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return login


@pytest.fixture
def sandbox(stripe_sandbox, settings):
    """The Stripe sandbox, empty, with the portal's settings pointing at it."""
    settings.STRIPE_API_BASE = stripe_sandbox.url
    settings.STRIPE_CONNECT_BASE = stripe_sandbox.url
    settings.STRIPE_JS_URL = f"{stripe_sandbox.url}/js.stripe.com/v3/"
    return stripe_sandbox


# --- Stripe: a connected workspace and a customer with a saved card ------------------------


@pytest.fixture
def connection(sandbox, workspace):
    secret, publishable, _ = sandbox.new_account(name="Acme Dental", country="US")
    return connection_create_from_key(
        workspace=workspace, secret_key=secret, publishable_key=publishable
    )


@pytest.fixture
def stripe_client(sandbox, connection):
    return sandbox.client(connection.secret_key)


def saved_customer(stripe_client, card: str = "pm_card_visa", email="jane@example.com") -> str:
    """A Stripe customer whose default payment method is `card` (a pm_card_* id or a number)."""
    customer = stripe_client.v1.customers.create(params={"email": email, "name": "Jane Cooper"})
    if card.startswith("pm_"):
        method = stripe_client.v1.payment_methods.attach(card, params={"customer": customer.id})
    else:
        method = stripe_client.v1.payment_methods.create(
            params={
                "type": "card",
                "card": {"number": card, "exp_month": 12, "exp_year": 2034, "cvc": "123"},
            }
        )
        stripe_client.v1.payment_methods.attach(method.id, params={"customer": customer.id})
    stripe_client.v1.customers.update(
        customer.id, params={"invoice_settings": {"default_payment_method": method.id}}
    )
    return customer.id


@pytest.fixture
def contact(workspace, stripe_client):
    return ContactFactory(
        workspace=workspace,
        name="Jane Cooper",
        email="jane@example.com",
        stripe_customer_id=saved_customer(stripe_client),
        custom_fields={"lead_value": "150"},
    )


# --- the browser: one Playwright and one Chromium per test process ---------------------------

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# This machine has no internet: keep Chromium from phoning home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium through Playwright, shared by every browser test of the process (two
    Playwright sync sessions cannot run in one thread). Without /usr/bin/chromium the tests
    skip with a message, unless REQUIRE_BROWSER=1 (CI), which makes them fail instead."""
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        message = f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(message + "; REQUIRE_BROWSER=1 forbids skipping browser tests")
        pytest.skip(message)
    # Playwright's sync API runs an event loop in this thread; the ORM calls made by
    # fixtures are still plain synchronous code.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
