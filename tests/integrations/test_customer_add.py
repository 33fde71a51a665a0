"""“+ Add customer” on the Stripe customers page (the Actionera page: create a customer by
hand when none exists): one customer per form, however often it is sent, shown at once with
its ID to copy; bad input changes nothing; only stripe=* may add."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.factories import StripeConnectionFactory

pytestmark = pytest.mark.django_db

ADD_URL = reverse("stripe_customer_add", args=["acme"])
LIST_URL = reverse("stripe_customer_list", args=["acme"])


@pytest.fixture
def account(sandbox, workspace):
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
    return sandbox.client(secret)


def _stripe_customers(client) -> list:
    return list(client.v1.customers.list(params={"limit": 100}).data)


def _attempt(html: str) -> str:
    return re.search(r'name="attempt" value="([0-9a-f-]{36})"', html).group(1)


def test_the_list_offers_add_customer_and_the_new_one_opens_with_its_id_to_copy(
    account, owner, as_user
):
    browser = as_user(owner)
    assert f'href="{ADD_URL}"' in browser.get(LIST_URL).text
    form = browser.get(ADD_URL).text

    response = browser.post(
        ADD_URL,
        {"name": "Acme Dental (lead fees)", "email": "ap@acme.test", "attempt": _attempt(form)},
        follow=True,
    )

    (customer,) = _stripe_customers(account)
    assert (customer.name, customer.email) == ("Acme Dental (lead fees)", "ap@acme.test")
    assert response.redirect_chain[-1][0].startswith(
        reverse("stripe_customer_detail", args=["acme", customer.id])
    )
    assert f"Customer created in Stripe: {customer.id}." in response.text
    assert f'id="customer-id" class="code" value="{customer.id}" readonly' in response.text
    assert 'data-copy="customer-id"' in response.text


def test_the_same_form_sent_twice_makes_one_customer(account, owner, as_user, sandbox):
    browser = as_user(owner)
    data = {"name": "Jane Roe", "email": "", "attempt": _attempt(browser.get(ADD_URL).text)}

    first = browser.post(ADD_URL, data)
    second = browser.post(ADD_URL, data)

    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert len(_stripe_customers(account)) == 1
    keys = {r["idempotency_key"] for r in sandbox.control.requests("/v1/customers", "POST")}
    assert len(keys) == 1


def test_a_lost_answer_is_said_and_sending_again_makes_no_second_customer(
    account, owner, as_user, sandbox
):
    browser = as_user(owner)
    data = {"name": "Jane Roe", "attempt": _attempt(browser.get(ADD_URL).text)}
    sandbox.control.inject_fault(method="POST", path="/v1/customers", kind="lost_response")

    refused = browser.post(ADD_URL, data)

    assert refused.status_code == 200
    assert "Send the form again: it will not make a second customer." in refused.text
    assert _attempt(refused.text) == data["attempt"]
    assert browser.post(ADD_URL, data).status_code == 302
    assert len(_stripe_customers(account)) == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": " ", "email": ""}, "Give a name or an e-mail"),
        ({"name": "Jane", "email": "not-an-email"}, "Enter a valid email address."),
        ({"name": "x" * 257}, "Ensure this value has at most 256 characters"),
    ],
)
def test_bad_input_is_named_next_to_the_form_and_nothing_is_created(
    data, message, account, owner, as_user, sandbox
):
    browser = as_user(owner)
    response = browser.post(ADD_URL, {**data, "attempt": _attempt(browser.get(ADD_URL).text)})

    assert response.status_code == 200
    assert message in response.text
    assert sandbox.control.requests("/v1/customers", "POST") == []


def test_staff_and_viewers_see_no_button_and_get_403(account, staff, viewer, as_user, sandbox):
    for user in (staff, viewer):
        browser = as_user(user)
        assert ADD_URL not in browser.get(LIST_URL).text
        assert browser.get(ADD_URL).status_code == 403
        response = browser.post(ADD_URL, {"name": "Mallory", "attempt": "0" * 32})
        assert response.status_code == 403 and b"stripe=*" in response.content
    assert sandbox.control.requests("/v1/customers", "POST") == []


def test_outsiders_get_404_and_create_nothing(account, outsider, as_user, sandbox):
    browser = as_user(outsider)
    assert browser.get(ADD_URL).status_code == 404
    assert browser.post(ADD_URL, {"name": "Mallory", "attempt": "0" * 32}).status_code == 404
    assert sandbox.control.requests("/v1/customers", "POST") == []


def test_without_a_connection_the_page_says_how_to_connect(workspace, owner, as_user):
    response = as_user(owner).get(ADD_URL)

    assert response.status_code == 200
    assert "Add customer</button>" not in response.text
    assert "Connect" in response.text
