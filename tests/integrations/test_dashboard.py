"""The Stripe dashboard, over HTTP against the sandbox: account, balance, bank accounts, the
connection switcher, and one clear panel when there is nothing to show."""

from __future__ import annotations

import pytest
from django.urls import reverse

from integrations.models import StripeConnection
from tests.factories import (
    MembershipFactory,
    RoleFactory,
    StripeConnectionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

TEST_BADGE = '<span class="badge test">Test mode</span>'
LIVE_BADGE = '<span class="badge live">Live mode</span>'
ASK_AN_OWNER = "Ask someone with the stripe=* permission (an Owner)"


def _url(slug="acme", **query):
    url = reverse("stripe_dashboard", args=[slug])
    return url + "".join(f"?{k}={v}" for k, v in query.items())


def _connect(sandbox, workspace, *, name="Acme Dental", live=False, **fields):
    secret, _publishable, account = sandbox.new_account(
        name=name, country="US", default_currency="usd", live=live
    )
    connection = StripeConnectionFactory(
        workspace=workspace,
        secret_key=secret,
        account_id=account["id"],
        account_name=name,
        mode="live" if live else "test",
        key_prefix=secret[:8],
        key_last4=secret[-4:],
        **fields,
    )
    return secret, account, connection


def test_it_shows_the_account_balance_and_bank_accounts(sandbox, workspace, owner, as_user):
    secret, account, connection = _connect(sandbox, workspace)
    sandbox.control.set_balance(
        secret,
        available=[{"amount": 12345, "currency": "usd"}],
        pending=[{"amount": 500, "currency": "usd"}],
    )
    sandbox.control.add_external_account(
        secret, bank_name="STRIPE TEST BANK", last4="6789", status="verified"
    )

    response = as_user(owner).get(_url())

    assert response.status_code == 200
    html = response.content.decode()
    for text in ("Acme Dental", account["id"], "<dd>US</dd>", "<dd>USD</dd>", TEST_BADGE):
        assert text in html
    assert "<td>USD</td><td>$123.45</td><td>$5.00</td>" in html
    assert "STRIPE TEST BANK" in html and "•••• 6789" in html and "Verified" in html
    assert connection.masked_secret_key in html
    assert secret not in html


def test_a_bank_accounts_status_reads_as_words(sandbox, workspace, owner, as_user):
    secret, _, _ = _connect(sandbox, workspace)
    sandbox.control.add_external_account(
        secret, bank_name="STRIPE TEST BANK", last4="6789", status="verification_failed"
    )

    html = as_user(owner).get(_url()).content.decode()

    assert "<td>Verification failed</td>" in html and "verification_failed" not in html.lower()


def test_it_shows_empty_states_without_balance_or_bank_account(sandbox, workspace, owner, as_user):
    _connect(sandbox, workspace)

    html = as_user(owner).get(_url()).content.decode()

    assert "<td>$0.00</td><td>$0.00</td>" in html  # Stripe lists the default currency
    assert "No payout bank account" in html


def test_balances_list_the_default_currency_first(sandbox, workspace, owner, as_user):
    secret, _account, _connection = _connect(sandbox, workspace)
    sandbox.control.set_balance(
        secret,
        available=[{"amount": 700, "currency": "eur"}, {"amount": 1500, "currency": "jpy"}],
    )

    html = as_user(owner).get(_url()).content.decode()

    assert html.index("<td>USD</td>") < html.index("<td>EUR</td>") < html.index("<td>JPY</td>")
    assert "<td>EUR</td><td>€7.00</td><td>€0.00</td>" in html
    assert "<td>JPY</td><td>¥1,500</td>" in html


def test_a_live_connection_shows_the_live_badge(sandbox, workspace, owner, as_user):
    _connect(sandbox, workspace, live=True)

    html = as_user(owner).get(_url()).content.decode()

    assert LIVE_BADGE in html and TEST_BADGE not in html


def test_without_a_connection_an_owner_gets_a_panel_to_connect_one(workspace, owner, as_user):
    response = as_user(owner).get(_url())

    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('class="panel stripe-problem"') == 1
    assert "No Stripe account is connected" in html
    assert reverse("stripe_connection_create", args=["acme"]) in html
    assert "<table" not in html


def test_without_a_connection_others_are_told_who_can_fix_it(workspace, staff, as_user):
    html = as_user(staff).get(_url()).content.decode()

    assert "No Stripe account is connected" in html
    assert ASK_AN_OWNER in html
    assert reverse("stripe_connection_create", args=["acme"]) not in html


def test_a_revoked_key_shows_the_panel_and_marks_the_connection(
    sandbox, workspace, owner, staff, as_user
):
    secret, _account, connection = _connect(sandbox, workspace)
    sandbox.control.revoke_key(secret)

    response = as_user(owner).get(_url())

    assert response.status_code == 200
    html = response.content.decode()
    assert "Stripe rejected the API key" in html
    assert html.count('class="panel stripe-problem"') == 1
    assert reverse("stripe_connection_edit", args=["acme", connection.uuid]) in html
    assert "Key rejected" in html  # the connection's health, in the connections table
    assert secret not in html
    connection.refresh_from_db()
    assert connection.health == StripeConnection.Health.AUTH_FAILED

    staff_html = as_user(staff).get(_url()).content.decode()
    assert "Stripe rejected the API key" in staff_html and ASK_AN_OWNER in staff_html


def test_a_restricted_key_without_permission_shows_the_panel(sandbox, workspace, owner, as_user):
    secret, _publishable, account = sandbox.new_account(
        name="Restricted", permissions={"customers": "read"}
    )
    connection = StripeConnectionFactory(
        workspace=workspace, secret_key=secret, account_id=account["id"]
    )

    html = as_user(owner).get(_url()).content.decode()

    assert "The API key lacks a permission" in html
    connection.refresh_from_db()
    assert connection.health == StripeConnection.Health.PERMISSION_MISSING


def test_when_stripe_does_not_answer_it_says_try_again(sandbox, workspace, owner, as_user):
    _secret, _account, connection = _connect(sandbox, workspace)
    sandbox.control.inject_fault(method="GET", path="/v1/account", kind="500")

    response = as_user(owner).get(_url())

    assert response.status_code == 200
    assert "Stripe did not answer; try again" in response.content.decode()
    connection.refresh_from_db()
    assert connection.health == StripeConnection.Health.OK


def test_a_failure_on_a_key_known_to_be_bad_says_the_key_is_bad(sandbox, workspace, owner, as_user):
    _connect(sandbox, workspace, health=StripeConnection.Health.AUTH_FAILED)
    sandbox.control.inject_fault(method="GET", path="/v1/account", kind="500")

    html = as_user(owner).get(_url()).content.decode()

    assert "Stripe rejected the API key" in html


def test_a_key_accepted_again_is_marked_healthy(sandbox, workspace, owner, as_user):
    _secret, _account, connection = _connect(
        sandbox, workspace, health=StripeConnection.Health.AUTH_FAILED
    )

    html = as_user(owner).get(_url()).content.decode()

    assert "Acme Dental" in html and "stripe-problem" not in html
    connection.refresh_from_db()
    assert connection.health == StripeConnection.Health.OK
    assert connection.last_checked_at is not None


def test_the_switcher_shows_the_chosen_connection(sandbox, workspace, owner, as_user):
    _connect(sandbox, workspace, name="Acme Dental")
    _secret, other_account, other = _connect(
        sandbox, workspace, name="Acme Ortho", is_default=False
    )
    client = as_user(owner)

    default_html = client.get(_url()).content.decode()
    assert f"?connection={other.uuid}" in default_html
    assert other_account["id"] not in default_html

    chosen_html = client.get(_url(connection=other.uuid)).content.decode()
    assert other_account["id"] in chosen_html
    # The customers link stays on the chosen account.
    customers = reverse("stripe_customer_list", args=["acme"])
    assert f"{customers}?connection={other.uuid}" in chosen_html


def test_a_connection_of_another_workspace_is_not_found(
    sandbox, workspace, other_workspace, owner, as_user
):
    _connect(sandbox, workspace)
    foreign = StripeConnectionFactory(workspace=other_workspace)

    assert as_user(owner).get(_url(connection=foreign.uuid)).status_code == 404
    assert as_user(owner).get(_url(connection="not-a-uuid")).status_code == 404


def test_owners_get_the_management_links_and_the_customers_link(sandbox, workspace, owner, as_user):
    _secret, _account, connection = _connect(sandbox, workspace)

    html = as_user(owner).get(_url()).content.decode()

    for name in ("stripe_connection_edit", "stripe_connection_check", "stripe_connection_remove"):
        assert reverse(name, args=["acme", connection.uuid]) in html
    assert reverse("stripe_connection_create", args=["acme"]) in html
    assert reverse("stripe_customer_list", args=["acme"]) in html


def test_staff_see_the_customers_link_but_no_management_links(sandbox, workspace, staff, as_user):
    _secret, _account, connection = _connect(sandbox, workspace)

    html = as_user(staff).get(_url()).content.decode()

    assert reverse("stripe_customer_list", args=["acme"]) in html
    assert reverse("stripe_connection_edit", args=["acme", connection.uuid]) not in html
    assert reverse("stripe_connection_create", args=["acme"]) not in html


def test_a_viewer_reads_the_dashboard_and_customers_but_manages_nothing(
    sandbox, workspace, viewer, as_user
):
    secret, account, connection = _connect(sandbox, workspace)
    client = as_user(viewer)

    response = client.get(_url())

    assert response.status_code == 200
    html = response.content.decode()
    assert account["id"] in html
    assert reverse("stripe_customer_list", args=["acme"]) in html
    assert reverse("stripe_connection_edit", args=["acme", connection.uuid]) not in html
    assert secret not in html
    assert client.get(reverse("stripe_customer_list", args=["acme"])).status_code == 200


@pytest.mark.parametrize(
    ("codes", "missing"),
    [(["stripe=view"], b"stripe=read"), (["stripe=read"], b"stripe=view")],
)
def test_the_dashboard_needs_both_stripe_view_and_stripe_read(
    codes, missing, sandbox, workspace, as_user
):
    """As the payment guide says: "you need to have the permissions stripe=view and
    stripe=read"; the refusal names the one missing."""
    _connect(sandbox, workspace)
    role = RoleFactory(workspace=workspace, name="Partial", permissions=codes)
    user = UserFactory(username="partial@acme.test")
    MembershipFactory(user=user, workspace=workspace, roles=[role])

    response = as_user(user).get(_url())

    assert response.status_code == 403
    assert missing in response.content


@pytest.mark.parametrize("persona", ["norole", "payer"])
def test_members_without_stripe_view_get_403(persona, request, sandbox, workspace, as_user):
    _connect(sandbox, workspace)
    user = request.getfixturevalue(persona)

    response = as_user(user).get(_url())

    assert response.status_code == 403
    assert b"stripe=view" in response.content


def test_outsiders_get_404(sandbox, workspace, outsider, as_user):
    _connect(sandbox, workspace)

    assert as_user(outsider).get(_url()).status_code == 404


def test_only_get_is_allowed(workspace, owner, as_user):
    assert as_user(owner).post(_url()).status_code == 405
