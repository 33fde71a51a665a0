"""The charge page's currency: the default connection's account currency, read from the
connection's row rather than asked of Stripe on every view."""

from __future__ import annotations

from integrations.models import StripeConnection
from integrations.services import connection_create_from_key
from tests.billing.conftest import charge_url
from tests.factories import ContactFactory

EUR_SELECTED = '<option value="EUR" selected>'


def _eur_connection(sandbox, workspace):
    secret, publishable, _ = sandbox.new_account(country="DE", default_currency="eur")
    return connection_create_from_key(
        workspace=workspace, secret_key=secret, publishable_key=publishable
    )


def test_the_currency_comes_from_the_connection_without_asking_stripe(
    sandbox, workspace, staff_client
):
    _eur_connection(sandbox, workspace)
    contact = ContactFactory(workspace=workspace)
    asked_before = len(sandbox.control.requests(path="/v1/account"))

    response = staff_client.get(charge_url(contact, "new"))

    assert response.status_code == 200 and EUR_SELECTED in response.text
    assert len(sandbox.control.requests(path="/v1/account")) == asked_before


def test_a_connection_without_a_currency_asks_stripe_once_and_keeps_it(
    sandbox, workspace, staff_client
):
    connection = _eur_connection(sandbox, workspace)
    StripeConnection.objects.filter(pk=connection.pk).update(country="", default_currency="")
    contact = ContactFactory(workspace=workspace)
    asked_before = len(sandbox.control.requests(path="/v1/account"))

    for _ in range(2):
        assert EUR_SELECTED in staff_client.get(charge_url(contact, "new")).text

    assert len(sandbox.control.requests(path="/v1/account")) == asked_before + 1
    connection.refresh_from_db()
    assert (connection.country, connection.default_currency) == ("DE", "eur")
