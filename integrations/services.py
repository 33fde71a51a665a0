"""Writes for Stripe connections."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import re

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from integrations.errors import AUTH_EXPIRED, NOT_FOUND, PERMISSION_DENIED, GatewayError
from integrations.forms import signing_secret_clean
from integrations.gateway import customers
from integrations.gateway.accounts import Account, account_retrieve, publishable_key_belongs
from integrations.gateway.client import Credentials
from integrations.gateway.connect import code_exchange, deauthorize
from integrations.gateway.webhooks import MAX_ENDPOINTS, endpoint_count, endpoint_create
from integrations.models import StripeConnection, WebhookEndpoint
from integrations.selectors import connection_calls, connection_credentials
from portal.audit import audit_record, changes_between, key_mask
from portal.models import AuditEntry, Workspace
from portal.services import contacts_stripe_customer_forget

logger = logging.getLogger(__name__)

SECRET_KEY_RE = re.compile(r"^(sk|rk)_(test|live)_[A-Za-z0-9]{8,}$")


def key_mode(secret_key: str) -> str:
    """'test' or 'live', read from the key's prefix; ValidationError if it is no secret key."""
    match = SECRET_KEY_RE.match(secret_key)
    if not match:
        message = "Paste a secret key: it starts with sk_test_, sk_live_, rk_test_ or rk_live_."
        raise ValidationError({"secret_key": message})
    return match.group(2)


def connection_create_from_key(
    *,
    workspace: Workspace,
    secret_key: str,
    publishable_key: str = "",
    make_default: bool = True,
    actor=None,
    address: str | None = None,
) -> StripeConnection:
    """Check the key with Stripe (account retrieve), then store it encrypted.

    A key Stripe rejects raises ValidationError on `secret_key` and saves nothing.
    `actor` and `address` are who connected it, for the audit trail.
    """
    secret_key, publishable_key = secret_key.strip(), publishable_key.strip()
    mode = key_mode(secret_key)
    account = _checked_account(secret_key)
    _check_publishable_key(
        Credentials(secret_key=secret_key, account_id=account.id),
        publishable_key=publishable_key,
        mode=mode,
    )
    with transaction.atomic():
        has_default = workspace.stripe_connections.filter(is_default=True).exists()
        if make_default and has_default:
            workspace.stripe_connections.update(is_default=False)
        connection = StripeConnection.objects.create(
            workspace=workspace,
            secret_key=secret_key,
            publishable_key=publishable_key,
            mode=mode,
            account_id=account.id,
            account_name=account.name,
            country=account.country,
            default_currency=account.default_currency,
            key_prefix=secret_key[:8],
            key_last4=secret_key[-4:],
            is_default=make_default or not has_default,
            health=StripeConnection.Health.OK,
            last_checked_at=timezone.now(),
        )
        _audit_connect(connection, actor=actor, address=address)
    return connection


def _audit_state(connection: StripeConnection) -> dict:
    """What the audit trail shows of a connection: its keys masked as the pages show them."""
    return {
        "account": connection.account_id,
        "mode": connection.mode,
        "secret_key": connection.masked_secret_key,
        "publishable_key": key_mask(connection.publishable_key),
        "default": connection.is_default,
    }


def _audit_connect(connection: StripeConnection, *, actor, address) -> None:
    name = connection.account_name or connection.account_id
    summary = f"Connected Stripe account {name} ({connection.get_mode_display().lower()} mode)"
    if connection.connected_via == StripeConnection.Via.OAUTH:
        summary += " through Stripe Connect"
    audit_record(
        workspace=connection.workspace,
        actor=actor,
        address=address,
        action=AuditEntry.Action.STRIPE_CONNECT,
        summary=summary,
        changes=changes_between({}, _audit_state(connection)),
        obj=connection,
    )


def _checked_account(secret_key: str):
    """The account a pasted key belongs to; ValidationError on `secret_key` if Stripe refuses."""
    try:
        return account_retrieve(Credentials(secret_key=secret_key))
    except GatewayError as error:
        if error.code in (AUTH_EXPIRED, PERMISSION_DENIED):
            raise ValidationError({"secret_key": error.message}) from None
        message = f"Stripe could not check the key: {error.message}"
        raise ValidationError({"secret_key": message}) from None


PUBLISHABLE_KEY_RE = re.compile(r"^pk_(test|live)_[A-Za-z0-9]{8,}$")


def _check_publishable_key(credentials: Credentials, *, publishable_key: str, mode: str) -> None:
    """ValidationError on `publishable_key` unless it is a key of the same account and mode as
    the secret key: Stripe.js takes the customer's card with it, so another account's key
    would put the card (and the payment) in that account."""
    if not publishable_key:
        return
    match = PUBLISHABLE_KEY_RE.match(publishable_key)
    if not match:
        raise ValidationError(
            {"publishable_key": "A publishable key starts with pk_test_ or pk_live_."}
        )
    if match.group(1) != mode:
        raise ValidationError(
            {"publishable_key": f"The publishable key is a {match.group(1)}-mode key; the secret "
             f"key is {mode} mode. Paste the publishable key of the same mode."}
        )  # fmt: skip
    fingerprint = hashlib.sha256(publishable_key.encode()).hexdigest()[:32]
    account = credentials.stripe_account or credentials.account_id
    try:
        belongs = publishable_key_belongs(
            # Never marks a stored connection: this is a check of what was pasted.
            dataclasses.replace(credentials, connection_id=None, on_rejected=None),
            publishable_key=publishable_key,
            idempotency_key=f"publishable_check:{account}:{fingerprint}",
        )
    except GatewayError as error:
        if error.code == PERMISSION_DENIED:
            # A restricted key without SetupIntent write cannot prove the pair: the key is
            # saved unchecked, as before, and the gap logged (give the key rak_setup_intent_write).
            logger.warning("publishable key of %s not checked: %s", account, error.message)
            return
        message = f"Stripe could not check the publishable key: {error.message}"
        raise ValidationError({"publishable_key": message}) from None
    if not belongs:
        raise ValidationError(
            {"publishable_key": "This publishable key is not of the same Stripe account as the "
             "secret key (or Stripe does not know it). Paste the publishable key shown next to "
             "the secret key in that account's dashboard."}
        )  # fmt: skip


def _make_default(connection: StripeConnection) -> None:
    StripeConnection.objects.filter(workspace=connection.workspace_id, is_default=True).exclude(
        pk=connection.pk
    ).update(is_default=False)
    StripeConnection.objects.filter(pk=connection.pk).update(is_default=True)
    connection.is_default = True


def connection_update(
    *,
    connection: StripeConnection,
    secret_key: str = "",
    publishable_key: str = "",
    make_default: bool = False,
    actor=None,
    address: str | None = None,
) -> StripeConnection:
    """Replace the key (checked with Stripe first; it must be of the same account and mode),
    the publishable key, or make the connection the default. `actor` and `address` are who
    did it, for the audit trail (which records only what changed)."""
    secret_key, publishable_key = secret_key.strip(), publishable_key.strip()
    if secret_key:
        mode = key_mode(secret_key)
        account = _checked_account(secret_key)
        if account.id != connection.account_id:
            raise ValidationError(
                {
                    "secret_key": f"This key belongs to another Stripe account ({account.id}). "
                    "Add it as a new connection instead."
                }
            )
    if publishable_key:
        if secret_key:
            credentials = Credentials(secret_key=secret_key, account_id=connection.account_id)
        else:
            credentials = connection_credentials(connection)
        _check_publishable_key(
            credentials,
            publishable_key=publishable_key,
            mode=mode if secret_key else connection.mode,
        )
    before = _audit_state(connection)
    if secret_key:
        connection.secret_key = secret_key
        connection.mode = mode
        connection.key_prefix, connection.key_last4 = secret_key[:8], secret_key[-4:]
        _account_details_set(connection, account)
        connection.health = StripeConnection.Health.OK
        connection.last_checked_at = timezone.now()
    if publishable_key:
        connection.publishable_key = publishable_key
    with transaction.atomic():
        connection.save()
        if make_default:
            _make_default(connection)
        _audit_update(connection, before, replaced=bool(secret_key), actor=actor, address=address)
    return connection


def _audit_update(connection: StripeConnection, before: dict, *, replaced: bool, actor, address):
    changes = changes_between(before, _audit_state(connection))
    if replaced and "secret_key" not in changes:  # the same last four: still a new key
        changes["secret_key"] = {"before": before["secret_key"], "after": "(replaced)"}
    if not changes:
        return
    name = connection.account_name or connection.account_id
    if "secret_key" in changes or "publishable_key" in changes:
        keys = {"secret_key": "secret key", "publishable_key": "publishable key"}
        which = " and ".join(label for field, label in keys.items() if field in changes)
        action, summary = AuditEntry.Action.STRIPE_KEY_REPLACE, f"Replaced the {which} of {name}"
    else:
        action, summary = AuditEntry.Action.STRIPE_DEFAULT_SET, f"Made {name} the default account"
    audit_record(
        workspace=connection.workspace,
        actor=actor,
        address=address,
        action=action,
        summary=summary,
        changes=changes,
        obj=connection,
    )


def _account_details_set(connection: StripeConnection, account: Account) -> None:
    connection.country = account.country
    connection.default_currency = account.default_currency


def connection_check(*, connection: StripeConnection) -> GatewayError | None:
    """Ask Stripe whether the connection still works; returns the error if it does not.

    A rejected key is recorded on the connection by its credentials; a success records
    health ok.
    """
    try:
        account = account_retrieve(connection_credentials(connection))
    except GatewayError as error:
        if error.code not in (AUTH_EXPIRED, PERMISSION_DENIED):
            StripeConnection.objects.filter(pk=connection.pk).update(last_checked_at=timezone.now())
        connection.refresh_from_db()
        return error
    connection.account_name = account.name
    _account_details_set(connection, account)
    connection.health = StripeConnection.Health.OK
    connection.last_checked_at = timezone.now()
    connection.save(
        update_fields=["account_name", "country", "default_currency", "health", "last_checked_at"]
    )
    return None


def connection_account_refresh(*, connection: StripeConnection) -> None:
    """Ask Stripe for the account's country and default currency and keep them on the
    connection (for connections made before the row kept them, or when Stripe did not answer
    while connecting). GatewayError if Stripe refuses."""
    account = account_retrieve(connection_credentials(connection))
    _account_details_set(connection, account)
    connection.save(update_fields=["country", "default_currency"])


def connection_account_ensure(*, connection: StripeConnection) -> StripeConnection:
    """The connection with its account's country and default currency, as kept on the row.

    A row made before it kept them (or while Stripe did not answer) asks Stripe once and keeps
    the answer; a failed ask is not repeated for an hour (the fields stay empty meanwhile)."""
    if connection.default_currency and connection.country:
        return connection
    if cache.add(f"integrations:account-ask:{connection.uuid}", True, 3600):
        try:
            connection_account_refresh(connection=connection)
        except GatewayError:
            pass
    return connection


def connection_create_from_oauth(
    *, workspace: Workspace, code: str, actor=None, address: str | None = None
) -> StripeConnection:
    """Exchange a Connect authorization code and store the connected account.

    Calls then use the platform key with the `Stripe-Account` header; no key is stored.
    `actor` and `address` are who connected it, for the audit trail.
    """
    try:
        grant = code_exchange(code=code)
    except GatewayError as error:
        raise ValidationError(f"Stripe did not accept the authorization: {error.message}") from None
    connection = StripeConnection(
        workspace=workspace,
        connected_via=StripeConnection.Via.OAUTH,
        account_id=grant.account_id,
        mode=StripeConnection.Mode.LIVE if grant.livemode else StripeConnection.Mode.TEST,
        publishable_key=grant.publishable_key,
    )
    try:
        # No on_rejected: the connection is not stored yet, there is nothing to mark.
        credentials = dataclasses.replace(connection_credentials(connection), on_rejected=None)
        account = account_retrieve(credentials)
    except GatewayError:
        connection.account_name = grant.account_id  # country and currency: asked again later
    else:
        connection.account_name = account.name
        _account_details_set(connection, account)
    with transaction.atomic():
        if workspace.stripe_connections.filter(account_id=grant.account_id).exists():
            raise ValidationError("This Stripe account is already connected to the workspace.")
        connection.is_default = not workspace.stripe_connections.filter(is_default=True).exists()
        connection.health = StripeConnection.Health.OK
        connection.last_checked_at = timezone.now()
        connection.save()
        _audit_connect(connection, actor=actor, address=address)
    return connection


def connection_remove(
    *, connection: StripeConnection, actor=None, address: str | None = None
) -> None:
    """Forget the connection (Connect: revoke the platform's access first, unless another
    workspace still uses the account through Connect: revoking is per account, and would cut
    that workspace off its API access and its events). The Stripe account itself is
    untouched; another connection becomes the default. `actor` and `address` are who removed
    it, for the audit trail (whose entry outlives the row)."""
    still_used = (
        StripeConnection.objects.filter(
            account_id=connection.account_id, connected_via=StripeConnection.Via.OAUTH
        )
        .exclude(pk=connection.pk)
        .exists()
    )
    if connection.connected_via == StripeConnection.Via.OAUTH and not still_used:
        try:
            deauthorize(account_id=connection.account_id)
        except GatewayError as error:
            # Already revoked on Stripe's side is fine; anything else is worth stopping for.
            if error.code not in (AUTH_EXPIRED, PERMISSION_DENIED, "VALIDATION_ERROR"):
                raise ValidationError(f"Stripe could not revoke access: {error.message}") from None
    with transaction.atomic():
        workspace = connection.workspace
        was_default = connection.is_default
        state = _audit_state(connection)
        audit_record(
            workspace=workspace,
            actor=actor,
            address=address,
            action=AuditEntry.Action.STRIPE_REMOVE,
            summary=f"Removed the connection to {connection.account_name or connection.account_id}",
            changes=changes_between(state, {}),
            obj=connection,
        )
        connection.delete()
        if was_default:
            successor = workspace.stripe_connections.order_by("created_at").first()
            if successor is not None:
                _make_default(successor)


def customer_delete(*, connection: StripeConnection, customer_id: str) -> customers.Customer | None:
    """Delete the customer in Stripe (its saved cards go with it, its payments stay) and
    forget it on the workspace's contacts. Returns the customer as it was, or None if it was
    already deleted (a second click, or someone else meanwhile: the outcome asked for holds).

    GatewayError NOT_FOUND if the account has no such customer, with the connection's health
    read again on any failure.
    """
    with connection_calls(connection) as credentials:
        customer = customers.customer_retrieve(credentials, customer_id=customer_id)
        if customer.deleted:
            return None
        try:
            customers.customer_delete(credentials, customer_id=customer_id)
        except GatewayError as error:
            if error.code != NOT_FOUND:
                raise
            return None  # deleted between the two calls
    contacts_stripe_customer_forget(workspace_id=connection.workspace_id, customer_id=customer_id)
    return customer


def customer_add(
    *, connection: StripeConnection, attempt: str, name: str, email: str, description: str = ""
) -> customers.Customer:
    """Create a customer in the connection's account by hand ("+ Add customer").

    The form's `attempt` (made when it was shown) keys the create: the same form sent twice,
    or a retry after a timeout, makes one customer, never two."""
    with connection_calls(connection) as credentials:
        return customers.customer_create(
            credentials,
            name=name,
            email=email,
            description=description,
            metadata={"created_in": "agency portal"},
            idempotency_key=f"connection:{connection.uuid}:customer-add:{attempt}",
        )


# Stripe takes explicit types (or "*"), not families: the payment, charge, customer and
# refund events the portal's triggers and ledger use.
WEBHOOK_EVENTS = [
    "payment_intent.created",
    "payment_intent.processing",
    "payment_intent.requires_action",
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
    "charge.succeeded",
    "charge.failed",
    "charge.captured",
    "charge.refunded",
    "charge.updated",
    "charge.dispute.created",
    "customer.created",
    "customer.updated",
    "customer.deleted",
    "refund.created",
    "refund.updated",
]


def webhook_events_for(prefix: str = "") -> list[str]:
    """The event types an endpoint subscribes to: all of WEBHOOK_EVENTS, or one trigger's
    family (`payment_intent.`); Stripe takes no family wildcard."""
    return [event for event in WEBHOOK_EVENTS if event.startswith(prefix)]


def webhook_endpoint_ensure(
    *, connection: StripeConnection, trigger_key: str = "", enabled_events=None
) -> WebhookEndpoint:
    """The endpoint row for the connection (`trigger_key` ""), or for one trigger
    ("workflow:<uuid>"), made without a secret if missing: its URL exists from then on, and
    it refuses every delivery until it has a signing secret."""
    return WebhookEndpoint.objects.get_or_create(
        connection=connection,
        trigger_key=trigger_key,
        defaults={"enabled_events": enabled_events or WEBHOOK_EVENTS},
    )[0]


def webhook_endpoint_url(endpoint: WebhookEndpoint) -> str:
    """The absolute URL Stripe posts the endpoint's events to (from SITE_URL)."""
    return settings.SITE_URL + reverse("stripe_webhook", args=[endpoint.uuid])


def webhook_endpoint_register(
    *, connection: StripeConnection, trigger_key: str = "", enabled_events=None
) -> WebhookEndpoint:
    """Create the endpoint in Stripe once and keep the secret it returns.

    Calling it again returns the registered endpoint; nothing else (saving, publishing)
    creates endpoints. The idempotency key comes from our row, so a retry after a lost
    answer gets the same endpoint back.
    """
    endpoint = webhook_endpoint_ensure(
        connection=connection, trigger_key=trigger_key, enabled_events=enabled_events
    )
    if endpoint.stripe_endpoint_id:
        return endpoint
    credentials = connection_credentials(connection)
    try:
        if endpoint_count(credentials) >= MAX_ENDPOINTS:
            raise ValidationError(
                f"The Stripe account uses all {MAX_ENDPOINTS} of its webhook endpoints; "
                "remove one in Stripe, or paste the secret of an existing endpoint."
            )
        registered = endpoint_create(
            credentials,
            url=webhook_endpoint_url(endpoint),
            enabled_events=endpoint.enabled_events or WEBHOOK_EVENTS,
            description=f"Agency Portal: {connection.workspace.name}"
            + (f" ({trigger_key})" if trigger_key else ""),
            idempotency_key=f"webhook:{endpoint.uuid}:register",
        )
    except GatewayError as error:
        raise ValidationError(f"Stripe refused to create the endpoint: {error.message}") from None
    endpoint.stripe_endpoint_id = registered.id
    endpoint.previous_secret, endpoint.secret = endpoint.secret, registered.secret
    endpoint.save(update_fields=["stripe_endpoint_id", "secret", "previous_secret"])
    return endpoint


def webhook_secret_set(
    *, connection: StripeConnection, secret: str, trigger_key: str = "", enabled_events=None
) -> WebhookEndpoint:
    """Use a signing secret pasted from an endpoint made by hand in Stripe's dashboard.

    The secret it replaces keeps working beside it (Stripe rolls secrets with an overlap).
    A key pasted in its place (sk_, rk_, pk_) is refused with a message naming the mix-up,
    and nothing is saved.
    """
    try:
        secret = signing_secret_clean(secret)
    except ValidationError as error:
        raise ValidationError({"secret": error.messages}) from None
    endpoint = webhook_endpoint_ensure(
        connection=connection, trigger_key=trigger_key, enabled_events=enabled_events
    )
    if secret != endpoint.secret:
        endpoint.previous_secret, endpoint.secret = endpoint.secret, secret
        endpoint.save(update_fields=["secret", "previous_secret"])
    return endpoint


def webhook_endpoint_for(*, connection: StripeConnection) -> WebhookEndpoint:
    """The connection's own endpoint row (made without a secret if it has none yet)."""
    return webhook_endpoint_ensure(connection=connection)
