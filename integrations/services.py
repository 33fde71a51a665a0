"""Writes for Stripe connections."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from integrations.gateway.accounts import account_retrieve
from integrations.gateway.client import Credentials
from integrations.gateway.errors import AUTH_EXPIRED, PERMISSION_DENIED, GatewayError
from integrations.models import StripeConnection
from portal.models import Workspace

SECRET_KEY_RE = re.compile(r"^(sk|rk)_(test|live)_[A-Za-z0-9]{8,}$")


def key_mode(secret_key: str) -> str:
    """'test' or 'live', read from the key's prefix; ValidationError if it is no secret key."""
    match = SECRET_KEY_RE.match(secret_key)
    if not match:
        message = "Paste a secret key: it starts with sk_test_, sk_live_, rk_test_ or rk_live_."
        raise ValidationError({"secret_key": message})
    return match.group(2)


def connection_create_from_key(
    *, workspace: Workspace, secret_key: str, publishable_key: str = "", make_default: bool = True
) -> StripeConnection:
    """Check the key with Stripe (account retrieve), then store it encrypted.

    A key Stripe rejects raises ValidationError on `secret_key` and saves nothing.
    """
    secret_key = secret_key.strip()
    mode = key_mode(secret_key)
    try:
        account = account_retrieve(Credentials(secret_key=secret_key))
    except GatewayError as error:
        if error.code in (AUTH_EXPIRED, PERMISSION_DENIED):
            raise ValidationError({"secret_key": error.message}) from None
        message = f"Stripe could not check the key: {error.message}"
        raise ValidationError({"secret_key": message}) from None
    with transaction.atomic():
        has_default = workspace.stripe_connections.filter(is_default=True).exists()
        if make_default and has_default:
            workspace.stripe_connections.update(is_default=False)
        return StripeConnection.objects.create(
            workspace=workspace,
            secret_key=secret_key,
            publishable_key=publishable_key.strip(),
            mode=mode,
            account_id=account.id,
            account_name=account.name,
            key_prefix=secret_key[:8],
            key_last4=secret_key[-4:],
            is_default=make_default or not has_default,
            health=StripeConnection.Health.OK,
            last_checked_at=timezone.now(),
        )
