"""A Stripe customer deleted (in the portal or in Stripe's dashboard): contacts forget it, so
"charge the card on file" says there is none instead of failing at Stripe; a workflow
triggered by `customer.deleted` still finds its contact."""

from __future__ import annotations

from django.urls import reverse

from automation.models import Run
from integrations.services import webhook_secret_set
from tests.automation.conftest import publish
from tests.automation.test_stripe_trigger import SECRET, deliver  # noqa: F401  (fixture)
from tests.factories import ContactFactory


def test_deleting_a_customer_in_the_portal_clears_it_from_contacts(
    workspace, connection, stripe_client, owner, as_user
):
    customer = stripe_client.v1.customers.create(params={"email": "jane@example.com"}).id
    jane = ContactFactory(workspace=workspace, stripe_customer_id=customer)
    other = ContactFactory(workspace=workspace, stripe_customer_id="cus_someoneelse")
    response = as_user(owner).post(reverse("stripe_customer_delete", args=["acme", customer]))
    assert response.status_code == 302
    jane.refresh_from_db()
    other.refresh_from_db()
    assert (jane.stripe_customer_id, other.stripe_customer_id) == ("", "cus_someoneelse")
    page = as_user(owner).get(reverse("contact_charge", args=["acme", jane.uuid])).content.decode()
    assert "no saved card" in page.lower() or "no card on file" in page.lower()


def test_a_customer_deleted_in_stripe_is_forgotten_after_workflows_saw_it(
    workspace,
    connection,
    deliver,  # noqa: F811
):
    endpoint = webhook_secret_set(connection=connection, secret=SECRET)
    workflow = publish(
        workspace, [], trigger="stripe_customer_event",
        trigger_config={"connection": str(connection.uuid)},
    )  # fmt: skip
    jane = ContactFactory(workspace=workspace, stripe_customer_id="cus_gone")
    elsewhere = ContactFactory(stripe_customer_id="cus_gone")  # another workspace's contact
    deliver(endpoint, {
        "id": "evt_customer_deleted", "object": "event", "type": "customer.deleted",
        "created": 1700000000, "livemode": False,
        "data": {"object": {"id": "cus_gone", "object": "customer", "deleted": True}},
    })  # fmt: skip
    run = Run.objects.get(workflow=workflow)
    assert run.contact == jane  # the trigger saw the contact before it forgot the customer
    jane.refresh_from_db()
    elsewhere.refresh_from_db()
    assert (jane.stripe_customer_id, elsewhere.stripe_customer_id) == ("", "cus_gone")
