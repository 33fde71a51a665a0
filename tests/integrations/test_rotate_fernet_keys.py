"""Key rotation: the secrets at rest move to the first key of FERNET_KEYS."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from integrations.models import StripeConnection, WebhookEndpoint
from integrations.secrets import forget_cached_keys
from tests.factories import StripeConnectionFactory


@pytest.fixture
def keys(settings):
    def use(*fernet_keys):
        settings.FERNET_KEYS = list(fernet_keys)
        forget_cached_keys()

    yield use
    forget_cached_keys()


def test_rotation_re_encrypts_every_secret_with_the_new_key(keys, workspace):
    keys("old-key")
    connection = StripeConnectionFactory(workspace=workspace, secret_key="sk_test_rotateMe12345678")
    WebhookEndpoint.objects.create(connection=connection, secret="whsec_rotate_me_12345")
    keys("new-key", "old-key")
    out = io.StringIO()
    call_command("rotate_fernet_keys", stdout=out)
    assert "Re-encrypted 2 rows" in out.getvalue()
    keys("new-key")  # the old key is gone: everything still decrypts
    assert StripeConnection.objects.get().secret_key == "sk_test_rotateMe12345678"
    assert WebhookEndpoint.objects.get().secret == "whsec_rotate_me_12345"


def test_without_the_old_key_rotation_stops_and_changes_nothing(keys, workspace):
    keys("old-key")
    StripeConnectionFactory(workspace=workspace, secret_key="sk_test_rotateMe12345678")
    keys("new-key")
    with pytest.raises(CommandError, match="nothing was changed"):
        call_command("rotate_fernet_keys", stdout=io.StringIO())
    keys("old-key")
    assert StripeConnection.objects.get().secret_key == "sk_test_rotateMe12345678"
