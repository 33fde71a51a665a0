"""One Stripe account connected through Connect in two workspaces: removing it from one
leaves the other's access (and so its events) alone; removing the last revokes access."""

from __future__ import annotations

import pytest

from integrations.errors import AUTH_EXPIRED, PERMISSION_DENIED, GatewayError
from integrations.gateway.accounts import account_retrieve
from integrations.gateway.client import Credentials
from integrations.gateway.connect import authorize_url
from integrations.selectors import connection_credentials
from integrations.services import connection_create_from_oauth, connection_remove
from tests.factories import WorkspaceFactory
from tests.integrations.test_connect_webhooks import (  # noqa: F401 (the platform fixture)
    CLIENT_ID,
    oauth_connect,
    platform,
)

pytestmark = pytest.mark.django_db


def _works(credentials: Credentials) -> bool:
    try:
        account_retrieve(credentials)
    except GatewayError as error:
        assert error.code in (AUTH_EXPIRED, PERMISSION_DENIED), error
        return False
    return True


@pytest.mark.usefixtures("platform")
def test_removing_one_of_two_workspaces_connections_keeps_the_others_access(sandbox, workspace):
    first = oauth_connect(sandbox, workspace, "Shared Dental")
    sandbox.control.set_next_connected_account(CLIENT_ID, {"id": first.account_id})
    other = WorkspaceFactory(name="Acme 2", slug="acme-2")
    location = sandbox.control.oauth_decide(
        authorize_url(state="s", redirect_uri="http://testserver/stripe/oauth/callback/")
    )
    second = connection_create_from_oauth(
        workspace=other, code=location.split("code=")[1].split("&")[0]
    )
    assert second.account_id == first.account_id

    connection_remove(connection=first)

    assert _works(connection_credentials(second))

    credentials = connection_credentials(second)
    connection_remove(connection=second)

    assert not _works(credentials)
