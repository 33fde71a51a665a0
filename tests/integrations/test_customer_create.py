"""The gateway's customer_create sends what Stripe's create takes: blanks left out, `source`
on create, `default_source` by an update under a key derived from the create's."""

from __future__ import annotations

import pytest

from integrations.gateway import errors
from integrations.gateway.client import Credentials
from integrations.gateway.customers import TAX_ID_TYPES, customer_create


@pytest.fixture
def creds(sandbox):
    secret, _, _ = sandbox.new_account(name="Acme Dental", country="US", default_currency="usd")
    return Credentials(secret_key=secret)


def test_blank_name_and_email_are_left_out(creds, sandbox):
    customer = customer_create(creds, name="", email="", idempotency_key="c1", phone="")
    (create,) = sandbox.control.requests(path="/v1/customers", method="POST")
    assert {"name", "email", "phone"}.isdisjoint(create["params"])
    assert (customer.name, customer.email) == ("", "")


def test_a_token_source_becomes_the_default_without_an_update(creds, sandbox):
    customer = customer_create(
        creds,
        name="Jane",
        email="jane@example.com",
        idempotency_key="c1",
        source="tok_visa",
        default_source="tok_visa",
    )
    assert customer.default_source.startswith("card_")
    assert sandbox.control.requests(path=f"/v1/customers/{customer.id}") == []


def test_default_source_is_an_update_with_its_own_key(creds, sandbox):
    with pytest.raises(errors.GatewayError) as caught:
        customer_create(
            creds, name="Jane", email="j@example.com", idempotency_key="c1", default_source="card_x"
        )
    assert (caught.value.code, caught.value.param) == ("VALIDATION_ERROR", "default_source")
    create, update = sandbox.control.requests(method="POST")
    assert "default_source" not in create["params"]
    assert update["params"] == {"default_source": "card_x"}
    assert update["idempotency_key"] == "c1:default_source"


def test_the_tax_id_types_are_stripes():
    assert {"eu_vat", "gb_vat", "us_ein", "au_abn"} <= set(TAX_ID_TYPES)
    assert len(TAX_ID_TYPES) > 100
