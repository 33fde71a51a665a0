"""An invoice's total is paid by card: below Stripe's minimum (or a three-decimal total not
ending in 0) it is refused when the invoice is saved, in the words of every amount field."""

from __future__ import annotations

import pytest

from invoices.models import Invoice
from tests.factories import ContactFactory
from tests.invoices.test_invoice_views import _post_data, _url

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_contact(workspace):
    return ContactFactory(workspace=workspace, name="Bright Smiles clinic")


@pytest.mark.parametrize(
    ("currency", "lines", "message"),
    [
        ("USD", [("Lead", "2", "0.20")], "The total is $0.40. Stripe&#x27;s minimum charge in "
         "USD is $0.50."),
        ("JPY", [("Lead", "1", "49")], "The total is ¥49. Stripe&#x27;s minimum charge in JPY"),
        ("KWD", [("Lead", "1", "1.255")], "Stripe requires KWD amounts to end in 0"),
    ],
)  # fmt: skip
def test_a_total_stripe_cannot_charge_is_refused(
    currency, lines, message, staff, as_user, client_contact
):
    data = _post_data(client_contact, None, lines, currency=currency)

    response = as_user(staff).post(_url("invoice_create"), data)

    assert response.status_code == 200
    assert message in response.text
    assert not Invoice.objects.exists()


def test_lines_below_the_minimum_are_fine_when_the_total_is_not(staff, as_user, client_contact):
    data = _post_data(client_contact, None, [("Lead", "2", "0.25"), ("KWD-free", "1", "0.01")])

    response = as_user(staff).post(_url("invoice_create"), data)

    assert response.status_code == 302
    assert Invoice.objects.get().lines.count() == 2
