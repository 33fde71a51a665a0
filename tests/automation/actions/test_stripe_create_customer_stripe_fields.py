"""Stripe create customer: each Catalytic field is sent the way Stripe takes it today, the
output has TaskJuice's fields, and a customer created with a card source is charged by the
next step of the same run."""

from __future__ import annotations

from automation.actions.stripe_create_customer import ConfigForm
from tests.automation.conftest import publish
from tests.factories import ContactFactory


def _create_step(connection, **config):
    return {
        "key": "create_customer",
        "type": "stripe_create_customer",
        "name": "Create customer",
        "config": {
            "connection": str(connection.uuid),
            "name": "{{ contact.name }}",
            "email": "{{ contact.email }}",
            **config,
        },
    }


def _charge_step(connection):
    return {
        "key": "charge",
        "type": "stripe_one_time_charge",
        "name": "Charge the new customer",
        "config": {
            "connection": str(connection.uuid),
            "customer_id": "{{ steps.create_customer.id }}",
            "description": "First order",
            "amount": 2500,
            "currency": "usd",
        },
    }


def test_a_customer_created_with_a_card_source_is_charged_by_the_next_step(
    workspace, connection, stripe_client, trigger_run, sandbox
):
    contact = ContactFactory(workspace=workspace, name="Jane Cooper", email="jane@example.com")
    publish(workspace, [_create_step(connection, source="tok_visa"), _charge_step(connection)])
    run = trigger_run(workspace, contact=contact)
    assert run.status == "succeeded", run.error_message
    customer_id = run.steps.get(step_key="create_customer").outputs["id"]
    charge = run.steps.get(step_key="charge").outputs
    assert (charge["customer"], charge["status"], charge["amount"]) == (
        customer_id,
        "succeeded",
        2500,
    )
    customer = stripe_client.v1.customers.retrieve(customer_id)
    assert customer.default_source.startswith("card_") and customer.currency == "usd"
    (create,) = sandbox.control.requests(path="/v1/customers", method="POST")
    assert create["params"]["source"] == "tok_visa" and "default_source" not in create["params"]
    assert create["idempotency_key"] == f"run:{run.uuid}:step:create_customer"
    # No update: the source given is already the default.
    assert sandbox.control.requests(path=f"/v1/customers/{customer_id}", method="POST") == []


def test_the_output_has_taskjuices_fields(workspace, connection, trigger_run):
    contact = ContactFactory(workspace=workspace, name="Jane Cooper", email="jane@example.com")
    publish(workspace, [_create_step(connection)])
    run = trigger_run(workspace, contact=contact)
    outputs = run.steps.get().outputs
    assert outputs["id"].startswith("cus_") and outputs["object"] == "customer"
    assert (outputs["email"], outputs["name"]) == ("jane@example.com", "Jane Cooper")
    assert isinstance(outputs["created"], int) and outputs["created"] > 0


def test_default_source_is_sent_by_an_update_with_a_key_derived_from_the_steps(
    workspace, connection, trigger_run, sandbox
):
    contact = ContactFactory(workspace=workspace, email="jane@example.com")
    publish(workspace, [_create_step(connection, source="tok_visa", default_source="card_other")])
    run = trigger_run(workspace, contact=contact)
    # Stripe refuses a default source that is not one of the customer's.
    assert (run.status, run.error_code) == ("failed", "VALIDATION_ERROR")
    assert "No such source: 'card_other'" in run.error_message
    (create,) = sandbox.control.requests(path="/v1/customers", method="POST")
    assert "default_source" not in create["params"]
    updates = [
        r
        for r in sandbox.control.requests(method="POST")
        if r["path"].startswith("/v1/customers/cus_")
    ]
    assert [u["params"] for u in updates] == [{"default_source": "card_other"}]
    key = f"run:{run.uuid}:step:create_customer"
    assert updates[0]["idempotency_key"] == f"{key}:default_source"


def test_the_vat_id_is_a_tax_id_of_the_chosen_type(
    workspace, connection, stripe_client, trigger_run
):
    contact = ContactFactory(workspace=workspace, email="jane@example.com")
    step = _create_step(connection, business_vat_id="GB123456789", tax_id_type="gb_vat")
    publish(workspace, [step])
    run = trigger_run(workspace, contact=contact)
    assert run.status == "succeeded", run.error_message
    customer_id = run.steps.get().outputs["id"]
    (tax_id,) = stripe_client.v1.customers.tax_ids.list(customer_id).data
    assert (tax_id.type, tax_id.value) == ("gb_vat", "GB123456789")


def test_the_coupon_is_kept_in_metadata_as_stripe_takes_no_coupon_on_customers(
    workspace, connection, stripe_client, trigger_run, sandbox
):
    contact = ContactFactory(workspace=workspace, email="jane@example.com")
    publish(workspace, [_create_step(connection, coupon="SPRING25", account_balance="-500")])
    run = trigger_run(workspace, contact=contact)
    assert run.status == "succeeded", run.error_message
    (create,) = sandbox.control.requests(path="/v1/customers", method="POST")
    assert "coupon" not in create["params"]
    customer = stripe_client.v1.customers.retrieve(run.steps.get().outputs["id"])
    assert customer.metadata["coupon"] == "SPRING25" and customer.balance == -500


def _form(workspace, connection, **data):
    return ConfigForm(data={"connection": str(connection.uuid), **data}, workspace=workspace)


def test_the_builder_refuses_a_malformed_email_next_to_the_field(workspace, connection):
    form = _form(workspace, connection, email="jane.example.com")
    assert not form.is_valid() and "e-mail address" in str(form.errors["email"])
    assert _form(workspace, connection, email="{{ contact.email }}").is_valid()


def test_the_builder_offers_stripes_tax_id_types_only(workspace, connection):
    form = _form(workspace, connection, business_vat_id="X1", tax_id_type="vat")
    assert not form.is_valid() and "tax_id_type" in form.errors
    form = _form(workspace, connection, business_vat_id="GB123456789", tax_id_type="")
    assert not form.is_valid()
    assert "Choose the type" in str(form.errors["tax_id_type"])
    assert _form(workspace, connection, business_vat_id="123", tax_id_type="us_ein").is_valid()
