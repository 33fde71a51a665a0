"""A connection's health: a rejected key marks the connection through its credentials, and the
owners are e-mailed once, by a task after the commit."""

from __future__ import annotations

import pytest
from django.urls import reverse

from integrations.errors import GatewayError
from integrations.gateway.accounts import account_retrieve
from integrations.health import connection_key_rejected
from integrations.models import StripeConnection
from integrations.selectors import connection_credentials
from integrations.services import connection_create_from_key
from integrations.tasks import warn_owners_of_rejected_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def keyed(sandbox, workspace, owner):
    """A healthy connection of the workspace (whose owner is `owner`), and its secret key."""
    secret, publishable, _ = sandbox.new_account(name="Acme Dental")
    connection = connection_create_from_key(
        workspace=workspace, secret_key=secret, publishable_key=publishable
    )
    return connection, secret


def _rejected_call(connection) -> None:
    with pytest.raises(GatewayError):
        account_retrieve(connection_credentials(connection))


def test_the_owners_are_emailed_by_a_task_once_on_the_change_to_unhealthy(
    sandbox, keyed, owner, staff, mailoutbox, django_capture_on_commit_callbacks
):
    connection, secret = keyed
    sandbox.control.revoke_key(secret)

    with django_capture_on_commit_callbacks() as first:
        _rejected_call(connection)
    connection.refresh_from_db()
    assert connection.health == StripeConnection.Health.AUTH_FAILED
    assert connection.last_checked_at is not None
    assert mailoutbox == []  # nothing sent inside the failing call
    assert len(first) == 1  # the task, queued for after the commit

    for callback in first:
        callback()  # the test cluster runs the task at once
    assert len(mailoutbox) == 1 and mailoutbox[0].to == [owner.email]  # staff lack stripe=*
    assert "Stripe stopped accepting the key of Acme" in mailoutbox[0].subject
    assert secret not in mailoutbox[0].body
    assert reverse("stripe_dashboard", args=["acme"]) in mailoutbox[0].body

    with django_capture_on_commit_callbacks(execute=True) as again:
        _rejected_call(connection)
    assert again == [] and len(mailoutbox) == 1  # already unhealthy: no second e-mail


def test_a_missing_permission_is_its_own_change(
    sandbox, workspace, owner, mailoutbox, django_capture_on_commit_callbacks
):
    secret, _, _ = sandbox.new_account(permissions={"customers": "read"})
    connection = StripeConnection.objects.create(
        workspace=workspace, secret_key=secret, mode="test", account_id="acct_restricted",
        health=StripeConnection.Health.OK,
    )  # fmt: skip

    with django_capture_on_commit_callbacks(execute=True):
        _rejected_call(connection)

    connection.refresh_from_db()
    assert connection.health == StripeConnection.Health.PERMISSION_MISSING
    assert len(mailoutbox) == 1


def test_a_key_healthy_again_before_the_task_runs_gets_no_warning(
    keyed, mailoutbox, django_capture_on_commit_callbacks
):
    connection, _secret = keyed
    with django_capture_on_commit_callbacks() as queued:
        connection_key_rejected(connection.pk, "AUTH_EXPIRED")
    assert len(queued) == 1
    # The key was replaced, or Stripe accepted it again, before the worker got to the task.
    StripeConnection.objects.filter(pk=connection.pk).update(health=StripeConnection.Health.OK)

    warn_owners_of_rejected_key(connection.pk)

    assert mailoutbox == []
