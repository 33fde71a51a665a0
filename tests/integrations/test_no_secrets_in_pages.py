"""No secret key or signing secret in any page of the Stripe pages, nor in the logs."""

from __future__ import annotations

import logging

from django.urls import URLPattern, reverse

from integrations import urls as stripe_urls
from integrations.services import connection_create_from_key, webhook_secret_set
from tests.factories import StripeEventFactory

HOOK_SECRET = "whsec_neverShowThisSigningSecret"
OLD_HOOK_SECRET = "whsec_neverShowThePreviousSecret"


def test_no_page_of_the_stripe_pages_shows_a_secret(sandbox, workspace, owner, as_user, caplog):
    caplog.set_level(logging.DEBUG)
    secret, publishable, _ = sandbox.new_account(name="Acme Dental")
    connection = connection_create_from_key(
        workspace=workspace, secret_key=secret, publishable_key=publishable
    )
    webhook_secret_set(connection=connection, secret=OLD_HOOK_SECRET)
    endpoint = webhook_secret_set(connection=connection, secret=HOOK_SECRET)
    event = StripeEventFactory(endpoint=endpoint, status="failed")
    customer = sandbox.client(secret).v1.customers.create(params={"email": "jane@example.com"})
    sandbox.client(secret).v1.payment_methods.attach(
        "pm_card_visa", params={"customer": customer.id}
    )
    values = {
        "ws": "acme",
        "connection_uuid": connection.uuid,
        "customer_id": customer.id,
        "event_uuid": event.uuid,
    }
    client = as_user(owner)
    bodies = []
    for pattern in stripe_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        kwargs = {k: v for k, v in values.items() if k == "ws" or k in pattern.pattern.converters}
        url = reverse(pattern.name, kwargs=kwargs)
        response = client.get(url)
        assert response.status_code in (200, 405), url
        bodies.append((url, response.content.decode()))
    # Failed form posts re-render the form: the pasted values must not come back either.
    edit = reverse("stripe_connection_edit", args=["acme", connection.uuid])
    response = client.post(edit, {"secret_key": secret + "x", "publishable_key": "bad"})
    bodies.append((edit, response.content.decode()))
    hooks = reverse("stripe_connection_webhooks", args=["acme", connection.uuid])
    response = client.post(hooks, {"action": "paste", "secret": "whsec_x!"})
    bodies.append((hooks, response.content.decode()))
    # A rejected key (the owner is told) and the resulting panel.
    sandbox.control.revoke_key(secret)
    bodies.append(("dashboard", client.get(reverse("stripe_dashboard", args=["acme"])).text))

    for url, body in bodies:
        for value in (secret, HOOK_SECRET, OLD_HOOK_SECRET, secret[8:-4]):
            assert value not in body, f"{url} shows a secret"
    for value in (secret, HOOK_SECRET, OLD_HOOK_SECRET):
        assert value not in caplog.text
