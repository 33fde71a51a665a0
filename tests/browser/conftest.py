"""Browser tests: Playwright driving Debian's Chromium against the live server.

Without /usr/bin/chromium the tests skip with a message, unless REQUIRE_BROWSER=1 (CI sets
it), in which case they fail: CI must never count a skipped browser test as a pass.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls made by fixtures
# here are still plain synchronous code. (The `chromium` fixture is in tests/conftest.py.)
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture
def page(chromium, request):
    """A fresh browser context per test; a screenshot is kept when the test fails."""
    context = chromium.new_context(viewport={"width": 1280, "height": 860}, locale="en-US")
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


NEW_YORK = "America/New_York"


@pytest.fixture
def zoned_page(chromium):
    """A page whose browser lives in New York: base.html tells the portal its zone."""
    context = chromium.new_context(
        viewport={"width": 1280, "height": 900}, locale="en-US", timezone_id=NEW_YORK
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def shot(page, name: str) -> Path:
    """Keep a picture of `page` in test-artifacts/ to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def screenshot(page):
    """`screenshot("name")`: keep a picture of the page in test-artifacts/ to look at."""

    def take(name: str) -> Path:
        return shot(page, name)

    return take


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
def login(live_server):
    """`login(page, user)`: log in through the real form."""
    from tests.factories import PASSWORD

    def do(page, user):
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()

    return do
