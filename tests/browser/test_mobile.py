"""The pages customers and payers use on a phone, in Chromium at 375 x 740 (an iPhone SE's
width): the hosted pay page, the invoice payer's pay form and the public booking page fit the
width (nothing scrolls sideways), their main controls are on screen and big enough to tap, the
text is not shrunk, axe-core finds nothing serious at this width, and each is used to the end:
paid with the sandbox's Stripe.js Card Element (4242 4242 4242 4242), a slot booked.
Screenshots: test-artifacts/mobile-*.png."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from automation.models import Appointment
from billing.models import Payment
from billing.services.links import payment_link_create
from invoices.models import Invoice, ScopeType
from invoices.services import invoice_issue, invoice_process, invoice_save, payment_process_save
from portal import perms
from tests.automation.factories import AppointmentFactory, CalendarFactory
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_accessibility import axe_violations
from tests.factories import ContactFactory

WIDTH, HEIGHT = 375, 740


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    cache.clear()


@pytest.fixture
def phone(chromium):
    """A page in a phone-sized context (touch, device scale 2), like `page` is for a desktop."""
    context = chromium.new_context(
        viewport={"width": WIDTH, "height": HEIGHT}, device_scale_factor=2, is_mobile=True,
        has_touch=True, locale="en-US",
    )  # fmt: skip
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def snap(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"mobile-{name}.png"), full_page=True)


def assert_fits(page) -> None:
    """Nothing shown wider than the screen, the body text at its full size, and axe-core finds
    no serious or critical WCAG A/AA violation at this width (see test_accessibility.py)."""
    width = page.evaluate("document.scrollingElement.scrollWidth")
    wide = page.evaluate(
        """(width) => [...document.querySelectorAll('body *')]
             .filter((el) => el.checkVisibility() && el.getBoundingClientRect().right > width + 0.5)
             .map((el) => el.outerHTML.slice(0, 80))""",
        WIDTH,
    )
    assert width <= WIDTH and wide == [], f"{page.url}: {width} px wide; past the edge: {wide}"
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 16
    assert axe_violations(page) == []


def assert_tappable(locator, height: int = 44) -> None:
    """On screen from side to side, and high enough to tap: 44 px for a page's main actions
    (WCAG 2.5.5), 24 px for the rest, such as links in a menu (WCAG 2.5.8)."""
    expect(locator).to_be_visible()
    locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTH, box
    assert box["height"] >= height, box


def _card(page, number: str = "4242 4242 4242 4242") -> None:
    """Fills Stripe.js's Card Element, each of its fields inside the element's box."""
    element = page.locator("[data-card-element]").bounding_box()
    for label, value in [("Card number", number), ("Expiration date", "12 / 34"),
                         ("CVC", "123"), ("ZIP", "10001")]:  # fmt: skip
        field = page.get_by_label(label)
        box = field.bounding_box()
        assert element["x"] <= box["x"], f"{label}: {box} starts outside {element}"
        assert box["x"] + box["width"] <= element["x"] + element["width"], f"{label}: {box}"
        field.fill(value)


def test_a_customer_pays_a_link_on_a_phone(
    live_server, phone, workspace, connection, contact, stripe_client
):
    calendar = CalendarFactory(workspace=workspace, name="Teeth cleaning and whitening",
                               price_amount=6275)  # fmt: skip
    visits = [AppointmentFactory(calendar=calendar, contact=contact) for _ in range(2)]
    link = payment_link_create(workspace=workspace, contact=contact, amount=12550, currency="usd",
                               description="Two visits", appointments=visits)  # fmt: skip
    phone.goto(live_server.url + link.get_absolute_url())
    expect(phone.get_by_role("heading", name=re.compile(r"Pay \$?125\.50"))).to_be_visible()
    expect(phone.get_by_role("row", name=re.compile("Teeth cleaning and whitening"))).to_have_count(
        2
    )
    assert_fits(phone)
    pay = phone.get_by_role("button", name=re.compile(r"Pay \$?125\.50"))
    assert_tappable(pay)
    _card(phone)
    assert_fits(phone)
    snap(phone, "pay-page")
    pay.click()

    expect(phone.get_by_role("heading", name="Payment successful")).to_be_visible()
    assert_fits(phone)
    snap(phone, "pay-done")
    assert Payment.objects.get().status == "succeeded"


@pytest.fixture
def work_item(workspace, org_units, connection):
    payment_process_save(
        workspace=workspace, assignee_name="Invoice payers", org_unit=org_units["/acme/Branch A"],
        scope_type=ScopeType.UNIT, role=workspace.roles.get(name=perms.INVOICE_PAYER),
    )  # fmt: skip
    invoice = invoice_save(
        workspace=workspace,
        contact=ContactFactory(workspace=workspace, name="Bright Smiles Dental"),
        org_unit=org_units["/acme/Branch A"], currency="usd", due_date=None,
        notes="Leads of November",
        lines=[{"description": "Qualified lead", "quantity": 10, "unit_price": 1500}],
    )  # fmt: skip
    return invoice_process(invoice=invoice_issue(invoice=invoice))


def test_a_payer_pays_an_invoice_on_a_phone(live_server, phone, login, payer, work_item):
    login(phone, payer)
    assert_fits(phone)
    workspace_nav = phone.get_by_role("navigation", name="Workspace")
    assert_tappable(workspace_nav.get_by_role("link", name="To pay"), height=24)
    workspace_nav.get_by_role("link", name="To pay").click()
    phone.get_by_role("link", name="INV-00001").click()
    expect(phone.get_by_role("heading", name="Invoice INV-00001")).to_be_visible()
    assert_fits(phone)
    snap(phone, "work-item")
    phone.get_by_role("link", name="Pay", exact=True).click()

    expect(phone.get_by_role("heading", name="Pay invoice INV-00001")).to_be_visible()
    expect(phone.get_by_label("Amount (USD)")).to_have_value("150.00")
    assert_fits(phone)
    _card(phone)
    pay = phone.get_by_role("button", name="Pay", exact=True)
    assert_tappable(pay)
    snap(phone, "invoice-pay-form")
    pay.click()

    # The amount as the workspace writes money ("$150.00", or "150.00 USD").
    expect(
        phone.get_by_text(re.compile(r"Paid \$?150\.00( USD)?\. The invoice is now Paid\."))
    ).to_be_visible()
    assert_fits(phone)
    snap(phone, "invoice-paid")
    assert Invoice.objects.get().status == "paid"


def test_a_visitor_books_a_slot_on_a_phone(live_server, phone, workspace):
    calendar = CalendarFactory(workspace=workspace, name="Teeth cleaning", slug="cleaning")
    phone.goto(f"{live_server.url}/book/{calendar.slug}/")
    expect(phone.get_by_role("heading", name="Teeth cleaning")).to_be_visible()
    assert_fits(phone)
    slot = phone.locator(".slots label").first
    assert_tappable(slot)
    chosen = slot.inner_text()
    slot.click()
    phone.get_by_label("Name").fill("Jane Cooper")
    phone.get_by_label("E-mail").fill("jane@example.com")
    book = phone.get_by_role("button", name="Book")
    assert_tappable(book)
    snap(phone, "booking")
    book.click()

    expect(phone.get_by_role("status")).to_contain_text("You are booked for")
    expect(phone.get_by_role("status")).to_contain_text(chosen)
    assert_fits(phone)
    snap(phone, "booked")
    assert Appointment.objects.get().email == "jane@example.com"
