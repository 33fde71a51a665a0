"""The publishable key saved with a connection is of the same Stripe account and mode as the
secret key: checked with Stripe (a SetupIntent made with the secret key, read back with the
publishable key), the message next to the field, nothing saved."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from integrations.models import StripeConnection
from integrations.services import connection_create_from_key, connection_update

ANOTHER_ACCOUNT = "not of the same Stripe account as the secret key"


def _create(client, secret, publishable):
    url = reverse("stripe_connection_create", args=["acme"])
    return client.post(url, {"secret_key": secret, "publishable_key": publishable})


def test_another_accounts_publishable_key_is_refused_next_to_the_field(sandbox, owner, as_user):
    secret, _, _ = sandbox.new_account(name="Acme Dental")
    _, other_publishable, _ = sandbox.new_account(name="Someone else")
    response = _create(as_user(owner), secret, other_publishable)
    assert response.status_code == 200
    form = response.context["form"]
    assert ANOTHER_ACCOUNT in " ".join(form.errors["publishable_key"])
    assert not form.non_field_errors()
    assert not StripeConnection.objects.exists()


def test_an_unknown_publishable_key_is_refused(sandbox, workspace):
    secret, _, _ = sandbox.new_account()
    with pytest.raises(ValidationError) as refused:
        connection_create_from_key(
            workspace=workspace, secret_key=secret, publishable_key="pk_test_unknownToStripe123"
        )
    assert ANOTHER_ACCOUNT in " ".join(refused.value.message_dict["publishable_key"])
    assert not StripeConnection.objects.exists()


def test_the_accounts_own_publishable_key_is_saved(sandbox, workspace, owner, as_user):
    secret, publishable, account = sandbox.new_account()
    response = _create(as_user(owner), secret, publishable)
    assert response.status_code == 302
    connection = StripeConnection.objects.get()
    assert (connection.account_id, connection.publishable_key) == (account["id"], publishable)
    live_secret, live_publishable, _ = sandbox.new_account(live=True)
    live = connection_create_from_key(
        workspace=workspace, secret_key=live_secret, publishable_key=live_publishable
    )
    assert live.mode == "live" and live.publishable_key == live_publishable


def test_editing_refuses_another_accounts_key_and_keeps_the_connection_healthy(
    sandbox, workspace, owner, as_user
):
    secret, publishable, _ = sandbox.new_account()
    _, other_publishable, _ = sandbox.new_account()
    connection = connection_create_from_key(
        workspace=workspace, secret_key=secret, publishable_key=publishable
    )
    url = reverse("stripe_connection_edit", args=["acme", connection.uuid])
    response = as_user(owner).post(url, {"secret_key": "", "publishable_key": other_publishable})
    assert response.status_code == 200
    assert ANOTHER_ACCOUNT in " ".join(response.context["form"].errors["publishable_key"])
    connection.refresh_from_db()
    assert connection.publishable_key == publishable and connection.health == "ok"


def test_editing_refuses_a_publishable_key_of_the_other_mode(sandbox, workspace):
    """With the secret field left blank the form cannot compare modes: the service does."""
    secret, publishable, _ = sandbox.new_account()
    _, live_publishable, _ = sandbox.new_account(live=True)
    connection = connection_create_from_key(
        workspace=workspace, secret_key=secret, publishable_key=publishable
    )
    with pytest.raises(ValidationError) as refused:
        connection_update(connection=connection, publishable_key=live_publishable)
    assert "live-mode key; the secret key is test mode" in str(refused.value)
    connection.refresh_from_db()
    assert connection.publishable_key == publishable
