"""The payment-link e-mail in Chromium: staff preview the HTML as it will arrive (a sandboxed
frame with the "Complete Payment" button and the bookings at the calendar's clock), send it,
and the development outbox shows the HTML received; its button opens the customer's page."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.urls import include, path
from playwright.sync_api import expect

from portal.urls import dev_patterns
from portal.urls import urlpatterns as portal_urlpatterns
from tests.automation.factories import AppointmentFactory, CalendarFactory

# The portal's URLs as DEBUG adds them (portal/urls.py reads DEBUG once, at import).
urlpatterns = [*portal_urlpatterns, path("dev/", include(dev_patterns))]

NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    cache.clear()


@pytest.fixture
def outbox(settings, tmp_path):
    """E-mails written to the development outbox and read at /dev/outbox/, as dev.py does."""
    settings.DEBUG = True
    settings.ROOT_URLCONF = __name__
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = settings.OUTBOX_DIR = tmp_path
    return tmp_path


@pytest.fixture
def bookings(workspace, contact):
    """Made newest first: 2:30 p.m. and 9:00 a.m. on 7 Jan 2030, in New York."""
    calendar = CalendarFactory(workspace=workspace, name="Teeth cleaning", price_amount=4999)
    return [
        AppointmentFactory(calendar=calendar, contact=contact, starts_at=at,
                           ends_at=at + dt.timedelta(minutes=30))
        for at in (dt.datetime(2030, 1, 7, 14, 30, tzinfo=NEW_YORK),
                   dt.datetime(2030, 1, 7, 9, tzinfo=NEW_YORK))
    ]  # fmt: skip


def test_staff_preview_the_html_email_send_it_and_the_outbox_shows_it_received(
    live_server, page, login, screenshot, staff, contact, bookings, outbox, stripe_client
):
    login(page, staff)
    page.goto(f"{live_server.url}/w/acme/contacts/{contact.uuid}/charge/?tab=link")
    for booking in page.get_by_role("checkbox", name=re.compile("Teeth cleaning")).all():
        booking.check()
    page.get_by_role("button", name="Use their total").click()
    page.get_by_label("Description").fill("Your cleaning visits")
    page.get_by_role("button", name="Preview the e-mail").click()

    expect(page.get_by_role("heading", name="Preview of the e-mail")).to_be_visible()
    frame = page.frame_locator("[data-testid=email-html]")
    asks = frame.get_by_text("Acme asks you to pay $99.98 for: Your cleaning visits.")
    expect(asks).to_be_visible()
    button = frame.get_by_role("link", name="Complete Payment")
    expect(button).to_be_visible()
    nine = frame.get_by_text("Jan. 7, 2030, 9 a.m. EST")
    half_two = frame.get_by_text("Jan. 7, 2030, 2:30 p.m. EST")
    # Oldest first, at the calendar's clock with the zone named.
    assert nine.bounding_box()["y"] < half_two.bounding_box()["y"]
    # The button is drawn as a button: a filled block, white bold text.
    look = button.evaluate(
        "a => { const s = getComputedStyle(a), c = getComputedStyle(a.parentElement);"
        " return [c.backgroundColor, s.color, s.fontWeight, a.offsetHeight]; }"
    )
    assert look[:3] == ["rgb(29, 78, 216)", "rgb(255, 255, 255)", "700"] and look[3] >= 40
    pay_url = button.get_attribute("href")
    assert re.fullmatch(r"https?://[^/]+/pay/[\w-]+/", pay_url)
    page.locator("[data-testid=email-html]").scroll_into_view_if_needed()
    screenshot("email-link-preview")

    page.get_by_role("button", name="Send the e-mail").click()
    expect(page.get_by_text("Payment link sent to jane@example.com.")).to_be_visible()

    # The customer's copy, in the development outbox.
    page.goto(f"{live_server.url}/dev/outbox/")
    page.get_by_role("link", name=re.compile(r"Acme: payment request of \$99\.98")).click()
    received = page.frame_locator("[data-testid=mail-html]")
    expect(received.get_by_role("link", name="Complete Payment")).to_have_attribute("href", pay_url)
    expect(received.get_by_text("Jan. 7, 2030, 9 a.m. EST")).to_be_visible()
    expect(page.get_by_test_id("mail-text")).to_contain_text(pay_url)
    page.locator("[data-testid=mail-html]").scroll_into_view_if_needed()
    screenshot("email-link-outbox")

    # The button works from the mail client: the customer's page, with the amount.
    page.context.clear_cookies()
    page.goto(pay_url.replace(re.match(r"https?://[^/]+", pay_url)[0], live_server.url))
    expect(page.get_by_role("heading", name="Pay $99.98")).to_be_visible()
