"""Stripe create customer: every field reaches Stripe and the ID lands on the contact."""

from __future__ import annotations

from automation.actions.stripe_create_customer import ConfigForm
from tests.automation.conftest import publish
from tests.factories import ContactFactory


def _step(connection, **config):
    base = {
        "connection": str(connection.uuid),
        "name": "{{ contact.name }}",
        "email": "{{ contact.email }}",
        "phone": "{{ contact.phone }}",
    }
    return {
        "key": "create_customer",
        "type": "stripe_create_customer",
        "name": "Create customer",
        "config": {**base, **config},
    }


def test_it_creates_the_customer_with_every_field_and_stores_the_id(
    workspace, connection, stripe_client, trigger_run, sandbox
):
    contact = ContactFactory(
        workspace=workspace, name="Jane Cooper", email="jane@example.com", phone="+1 555 0101"
    )
    publish(
        workspace,
        [
            _step(
                connection,
                description="Lead from the website",
                account_balance="-500",
                business_vat_id="DE123456789",
                address_line1="1 Main St",
                address_line2="Suite 2",
                city="Springfield",
                state="IL",
                zip="62701",
                country="US",
            )
        ],
    )
    run = trigger_run(workspace, contact=contact)
    assert run.status == "succeeded", run.error_message
    customer_id = run.steps.get().outputs["id"]
    contact.refresh_from_db()
    assert contact.stripe_customer_id == customer_id
    (request,) = sandbox.control.requests(path="/v1/customers", method="POST")
    params = request["params"]
    assert params["name"] == "Jane Cooper" and params["email"] == "jane@example.com"
    assert params["phone"] == "+1 555 0101" and params["description"] == "Lead from the website"
    assert params["balance"] in ("-500", -500)
    assert params["shipping"]["address"]["city"] == "Springfield"
    assert params["shipping"]["address"]["postal_code"] == "62701"
    assert params["tax_id_data"][0]["value"] == "DE123456789"
    assert request["idempotency_key"] == f"run:{run.uuid}:step:create_customer"
    assert stripe_client.v1.customers.retrieve(customer_id).email == "jane@example.com"


def test_the_next_step_can_use_the_new_customer_id(workspace, connection, trigger_run):
    contact = ContactFactory(workspace=workspace)
    mail_step = {
        "key": "mail",
        "type": "send_email",
        "name": "Tell the agency",
        "config": {
            "to": "agency@example.com",
            "subject": "New customer",
            "body": "Customer {{ steps.create_customer.id }}",
        },
    }
    publish(workspace, [_step(connection), mail_step])
    run = trigger_run(workspace, contact=contact)
    assert run.status == "succeeded"
    body = run.steps.get(step_key="mail").inputs["body"]
    assert body.startswith("Customer cus_")


def test_bad_account_balance_is_refused_in_the_builder(workspace, connection):
    form = ConfigForm(
        data={"connection": str(connection.uuid), "account_balance": "5.00"}, workspace=workspace
    )
    assert not form.is_valid() and "whole number of cents" in str(form.errors["account_balance"])


def test_stripe_refusing_the_customer_is_validation_error(
    workspace, connection, trigger_run, sandbox
):
    contact = ContactFactory(workspace=workspace)
    sandbox.control.inject_fault(method="POST", path="/v1/customers", kind="429", count=10)
    publish(workspace, [_step(connection)])
    run = trigger_run(workspace, contact=contact)
    assert (run.status, run.error_code) == ("failed", "RATE_LIMITED")
    contact.refresh_from_db()
    assert contact.stripe_customer_id == ""
