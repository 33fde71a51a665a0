"""In Chromium: the owner adds a Stripe customer from the customers page, sees its ID at once,
and sending the form again after pressing Back makes no second customer."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.factories import StripeConnectionFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_add_customer_shows_its_id_and_back_then_send_makes_no_second(
    page, live_server, login, sandbox, workspace, owner, screenshot
):
    secret, _publishable, account = sandbox.new_account(
        name="Acme Dental", country="US", default_currency="usd"
    )
    StripeConnectionFactory(
        workspace=workspace,
        secret_key=secret,
        account_id=account["id"],
        account_name="Acme Dental",
        key_prefix=secret[:8],
        key_last4=secret[-4:],
    )
    login(page, owner)
    page.goto(f"{live_server.url}/w/acme/stripe/customers/")
    expect(page.get_by_text("This Stripe account has no customers yet.")).to_be_visible()

    page.get_by_role("link", name="+ Add customer").click()
    page.get_by_role("button", name="Add customer").click()
    expect(page.get_by_text("Give a name or an e-mail")).to_be_visible()
    page.get_by_label("Name").fill("Acme Dental (lead fees)")
    page.get_by_label("E-mail").fill("ap@acme.test")
    screenshot("customer-add-form")
    page.get_by_role("button", name="Add customer").click()

    expect(page.get_by_role("heading", name="Acme Dental (lead fees)")).to_be_visible()
    customer_id = page.get_by_label("Customer ID").input_value()
    assert re.fullmatch(r"cus_[A-Za-z0-9]+", customer_id)
    expect(page.get_by_text(f"Customer created in Stripe: {customer_id}.")).to_be_visible()
    expect(page.get_by_role("button", name="Copy")).to_be_visible()
    screenshot("customer-added")

    page.go_back()
    page.get_by_role("button", name="Add customer").click()
    expect(page.get_by_label("Customer ID")).to_have_value(customer_id)
    customers = sandbox.client(secret).v1.customers.list(params={"limit": 10}).data
    assert [c.id for c in customers] == [customer_id]
