"""Stripe customers, over HTTP against the sandbox: search, cursor pagination, one customer's
cards and payments, and deleting a customer (GET confirms, POST deletes)."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urljoin

import pytest
from django.urls import reverse

from integrations.models import StripeConnection
from tests.factories import StripeConnectionFactory

pytestmark = pytest.mark.django_db


def _list_url(slug="acme"):
    return reverse("stripe_customer_list", args=[slug])


def _detail_url(customer_id, slug="acme"):
    return reverse("stripe_customer_detail", args=[slug, customer_id])


def _delete_url(customer_id, slug="acme"):
    return reverse("stripe_customer_delete", args=[slug, customer_id])


@pytest.fixture
def stripe_account(sandbox, workspace):
    """(secret key, stripe client, connection) of the workspace's default connection."""
    secret, _publishable, account = sandbox.new_account(
        name="Acme Dental", country="US", default_currency="usd"
    )
    connection = StripeConnectionFactory(
        workspace=workspace,
        secret_key=secret,
        account_id=account["id"],
        account_name="Acme Dental",
        key_prefix=secret[:8],
        key_last4=secret[-4:],
    )
    return secret, sandbox.client(secret), connection


def _create(client, name, email, **params):
    return client.v1.customers.create(params={"name": name, "email": email, **params}).id


def _ids(html: str) -> list[str]:
    return re.findall(r"<code>(cus_[A-Za-z0-9]+)</code>", html)


def _link(html: str, rel: str) -> str:
    match = re.search(rf'<a href="([^"]+)" rel="{rel}">', html)
    assert match, f"no {rel} link"
    return urljoin(_list_url(), unescape(match.group(1)))  # the page's hrefs are `?...`


def _is_deleted(client, customer_id) -> bool:
    return bool(client.v1.customers.retrieve(customer_id).to_dict().get("deleted"))


# --- the list -------------------------------------------------------------------------------


def test_the_list_shows_the_customers_with_links(stripe_account, staff, as_user):
    secret, client, _connection = stripe_account
    cid = _create(client, "Ada Lovelace", "ada@example.com")

    response = as_user(staff).get(_list_url())

    assert response.status_code == 200
    html = response.content.decode()
    assert "Ada Lovelace" in html and "ada@example.com" in html and cid in html
    assert _detail_url(cid) in html
    assert "First page" not in html and "Next page" not in html
    assert secret not in html


def test_dates_are_shown_in_the_viewers_zone(stripe_account, staff, as_user):
    _secret, client, _connection = stripe_account
    _create(client, "Ada Lovelace", "ada@example.com")
    browser = as_user(staff)
    browser.cookies["tz"] = "Asia/Kolkata"

    html = browser.get(_list_url()).content.decode()

    assert re.search(r'<time datetime="[^"]+\+05:30">', html)


def test_the_list_has_an_empty_state(stripe_account, staff, as_user):
    html = as_user(staff).get(_list_url()).content.decode()

    assert "This Stripe account has no customers yet" in html


@pytest.mark.parametrize(("query", "expected"), [("ada@exa", "Ada"), ("grace hop", "Grace")])
def test_search_by_email_or_name(query, expected, stripe_account, staff, as_user):
    _secret, client, _connection = stripe_account
    ids = {
        "Ada": _create(client, "Ada Lovelace", "ada@example.com"),
        "Grace": _create(client, "Grace Hopper", "grace@navy.test"),
    }

    html = as_user(staff).get(_list_url(), {"q": query}).content.decode()

    assert _ids(html) == [ids[expected]]


def test_htmx_search_returns_the_results_partial(stripe_account, staff, as_user):
    _secret, client, _connection = stripe_account
    cid = _create(client, "Ada Lovelace", "ada@example.com")
    _create(client, "Grace Hopper", "grace@navy.test")

    response = as_user(staff).get(
        _list_url(), {"q": "lovelace"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="customer-results"
    )

    html = response.content.decode()
    assert "<html" not in html
    assert 'id="customer-results"' in html
    assert _ids(html) == [cid]


def test_a_search_without_match_says_so(stripe_account, staff, as_user):
    _secret, client, _connection = stripe_account
    _create(client, "Ada Lovelace", "ada@example.com")

    html = as_user(staff).get(_list_url(), {"q": "nobody"}).content.decode()

    assert "No customer matches “nobody”" in html


def test_a_too_short_search_asks_for_more_and_calls_nobody(sandbox, stripe_account, staff, as_user):
    html = as_user(staff).get(_list_url(), {"q": "ad"}).content.decode()

    assert "Type at least 3 characters to search." in html
    assert sandbox.control.requests(path="/v1/customers/search") == []


def test_pagination_goes_through_the_pages_by_cursor(stripe_account, staff, as_user):
    _secret, client, _connection = stripe_account
    created = [_create(client, f"Patient {n}", f"patient{n}@example.com") for n in range(25)]
    browser = as_user(staff)

    first = browser.get(_list_url()).content.decode()
    assert len(_ids(first)) == 20
    assert "First page" not in first

    second = browser.get(_link(first, "next")).content.decode()
    assert len(_ids(second)) == 5
    assert set(_ids(first)) | set(_ids(second)) == set(created)
    assert "Next page" not in second

    again = browser.get(_link(second, "first")).content.decode()
    assert _ids(again) == _ids(first)


def test_search_results_paginate_and_keep_the_query(stripe_account, staff, as_user):
    _secret, client, _connection = stripe_account
    for n in range(25):
        _create(client, f"Patient {n}", f"patient{n}@clinic.test")
    _create(client, "Someone Else", "else@other.test")
    browser = as_user(staff)

    first = browser.get(_list_url(), {"q": "clinic"}).content.decode()
    next_url = _link(first, "next")
    assert "q=clinic" in next_url
    second = browser.get(next_url).content.decode()

    assert len(_ids(first)) == 20 and len(_ids(second)) == 5
    assert "Someone Else" not in first + second


def test_without_a_connection_the_list_shows_the_panel(workspace, owner, as_user):
    html = as_user(owner).get(_list_url()).content.decode()

    assert "No Stripe account is connected" in html
    assert 'type="search"' not in html


def test_a_revoked_key_shows_the_panel_on_the_list(sandbox, stripe_account, staff, as_user):
    secret, _client, connection = stripe_account
    sandbox.control.revoke_key(secret)

    response = as_user(staff).get(_list_url())

    assert response.status_code == 200
    html = response.content.decode()
    assert "Stripe rejected the API key" in html
    assert "Ask someone with the stripe=* permission (an Owner)" in html
    connection.refresh_from_db()
    assert connection.health == StripeConnection.Health.AUTH_FAILED


def test_when_stripe_does_not_answer_the_list_says_try_again(
    sandbox, stripe_account, staff, as_user
):
    sandbox.control.inject_fault(method="GET", path="/v1/customers", kind="500")

    response = as_user(staff).get(_list_url())

    assert response.status_code == 200
    assert "Stripe did not answer; try again" in response.content.decode()


# --- one customer ---------------------------------------------------------------------------


def test_the_customer_page_shows_cards_and_payments(stripe_account, staff, as_user):
    secret, client, _connection = stripe_account
    cid = _create(client, "Ada Lovelace", "ada@example.com")
    card = client.v1.payment_methods.attach("pm_card_visa", params={"customer": cid})
    client.v1.customers.update(
        cid, params={"invoice_settings": {"default_payment_method": card.id}}
    )
    client.v1.payment_intents.create(
        params={
            "amount": 4999,
            "currency": "usd",
            "customer": cid,
            "payment_method": card.id,
            "confirm": True,
            "description": "Teeth whitening",
        }
    )

    response = as_user(staff).get(_detail_url(cid))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Ada Lovelace" in html and "ada@example.com" in html and cid in html
    assert "Visa" in html and "•••• 4242" in html
    assert f"{card.card.exp_month:02d}/{card.card.exp_year}" in html
    assert '<span class="badge">Default</span>' in html
    assert "$49.99" in html and "Succeeded" in html and "Teeth whitening" in html
    # Staff have stripe=read, not stripe=*: no delete button.
    assert _delete_url(cid) not in html
    assert secret not in html


def test_owners_get_the_delete_button(stripe_account, owner, as_user):
    _secret, client, _connection = stripe_account
    cid = _create(client, "Ada Lovelace", "ada@example.com")

    html = as_user(owner).get(_detail_url(cid)).content.decode()

    assert _delete_url(cid) in html
    assert "No saved card" in html and "No payments from this customer yet" in html


def test_an_unknown_customer_is_not_found(stripe_account, staff, as_user):
    response = as_user(staff).get(_detail_url("cus_DoesNotExist123"))

    assert response.status_code == 404
    assert b"Page not found" in response.content


@pytest.mark.parametrize("bad_id", ["cust_123", "cus_", "cus_abc-def", "cus_a%2F..%2Fb"])
def test_an_odd_customer_id_never_reaches_stripe(bad_id, sandbox, stripe_account, owner, as_user):
    browser = as_user(owner)

    assert browser.get(_detail_url(bad_id)).status_code == 404
    assert browser.get(_delete_url(bad_id)).status_code == 404
    assert browser.post(_delete_url(bad_id)).status_code == 404
    assert sandbox.control.requests() == []


# --- delete ---------------------------------------------------------------------------------


def test_get_asks_for_confirmation_and_deletes_nothing(stripe_account, owner, as_user):
    secret, client, _connection = stripe_account
    cid = _create(client, "Ada Lovelace", "ada@example.com")

    response = as_user(owner).get(_delete_url(cid))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Delete Ada Lovelace?" in html
    assert "saved cards are removed with it" in html and "Payments already made stay" in html
    assert 'method="post"' in html
    assert not _is_deleted(client, cid)
    assert secret not in html


def test_post_deletes_the_customer_and_returns_to_the_list(stripe_account, owner, as_user):
    _secret, client, _connection = stripe_account
    cid = _create(client, "Ada Lovelace", "ada@example.com")
    browser = as_user(owner)

    response = browser.post(_delete_url(cid))

    assert response.status_code == 302
    assert response["Location"] == _list_url()
    assert _is_deleted(client, cid)
    html = browser.get(response["Location"]).content.decode()
    assert "Customer Ada Lovelace deleted in Stripe." in html
    assert cid not in html
    # Its page is gone, and a second click changes nothing and says so.
    assert browser.get(_detail_url(cid)).status_code == 404
    again = browser.post(_delete_url(cid), follow=True).content.decode()
    assert f"Customer {cid} was already deleted." in again


def test_staff_without_stripe_all_cannot_delete(stripe_account, staff, as_user):
    _secret, client, _connection = stripe_account
    cid = _create(client, "Ada Lovelace", "ada@example.com")
    browser = as_user(staff)

    assert browser.get(_delete_url(cid)).status_code == 403
    response = browser.post(_delete_url(cid))

    assert response.status_code == 403
    assert b"stripe=*" in response.content
    assert not _is_deleted(client, cid)


def test_deleting_with_a_revoked_key_shows_the_panel(sandbox, stripe_account, owner, as_user):
    secret, client, _connection = stripe_account
    cid = _create(client, "Ada Lovelace", "ada@example.com")
    sandbox.control.revoke_key(secret)

    response = as_user(owner).post(_delete_url(cid))

    assert response.status_code == 200
    assert "Stripe rejected the API key" in response.content.decode()


# --- who may open what ----------------------------------------------------------------------


@pytest.fixture
def customer_id(stripe_account):
    _secret, client, _connection = stripe_account
    return _create(client, "Ada Lovelace", "ada@example.com")


def _pages(cid):
    return [
        (_list_url(), "stripe=read"),
        (_detail_url(cid), "stripe=read"),
        (_delete_url(cid), "stripe=*"),
    ]


def test_a_viewer_reads_customers_but_cannot_delete_one(customer_id, viewer, as_user):
    browser = as_user(viewer)
    for url in (_list_url(), _detail_url(customer_id)):
        assert browser.get(url).status_code == 200, url
    for response in (browser.get(_delete_url(customer_id)), browser.post(_delete_url(customer_id))):
        assert response.status_code == 403
        assert b"stripe=*" in response.content


@pytest.mark.parametrize("persona", ["norole", "payer"])
def test_members_without_the_permission_get_403(persona, request, customer_id, as_user):
    browser = as_user(request.getfixturevalue(persona))
    for url, perm in _pages(customer_id):
        response = browser.get(url)
        assert response.status_code == 403, url
        assert perm.encode() in response.content
    assert browser.post(_delete_url(customer_id)).status_code == 403


def test_outsiders_get_404_on_every_page(customer_id, outsider, as_user):
    browser = as_user(outsider)
    for url, _perm in _pages(customer_id):
        assert browser.get(url).status_code == 404, url
    assert browser.post(_delete_url(customer_id)).status_code == 404


def test_no_page_shows_the_secret_key(stripe_account, customer_id, owner, as_user):
    secret, _client, _connection = stripe_account
    browser = as_user(owner)
    urls = [reverse("stripe_dashboard", args=["acme"])] + [url for url, _ in _pages(customer_id)]
    for url in urls:
        response = browser.get(url)
        assert response.status_code == 200, url
        assert secret not in response.content.decode(), url
