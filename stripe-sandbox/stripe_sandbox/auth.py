"""Authentication of ``/v1/`` calls against the registered keys, with Stripe's error answers.

- no key: 401; unknown or revoked key: 401 ``Invalid API Key provided: sk_test_***1234``;
- a publishable key outside the few endpoints Stripe.js calls: 401 (on those, the key may
  also come as ``key`` in the body or query string, and ``_stripe_account`` stands for the
  ``Stripe-Account`` header, as Stripe.js sends them);
- a restricted key without the permission for the resource: 403 with Stripe's wording;
- ``Stripe-Account: acct_X`` naming an account the key's account is not connected to (as a
  Connect platform): 403 ``account_invalid``.
On success the request runs as the key's account, or as the ``Stripe-Account`` (see
``stripe_sandbox.context``).
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from aiohttp import web

from stripe_sandbox import context
from stripe_sandbox import request_keys as keys
from stripe_sandbox.accounts import ApiKey, KeyRegistry, mask_key
from stripe_sandbox.connect import ConnectRegistry
from stripe_sandbox.errors import error_response
from stripe_sandbox.params import read_params

# Endpoints Stripe.js (and the sandbox's fake of it) calls with the publishable key, given
# either as Bearer token or as ``key`` in the body (POST) or query string (GET). The intent
# endpoints also require the intent's ``client_secret`` (checked by ``stripe_js``).
_PUBLISHABLE_OK = [
    (method, re.compile(p))
    for method, p in (
        ("POST", r"^/v1/tokens$"),
        ("POST", r"^/v1/sources$"),
        ("POST", r"^/v1/payment_methods$"),
        ("POST", r"^/v1/payment_intents/\w+/_authenticate$"),
        ("POST", r"^/v1/payment_intents/\w+/confirm$"),
        ("GET", r"^/v1/payment_intents/\w+$"),
        ("POST", r"^/v1/setup_intents/\w+/_authenticate$"),
        ("POST", r"^/v1/setup_intents/\w+/confirm$"),
        ("POST", r"^/v1/setup_intents/\w+/cancel$"),
        ("GET", r"^/v1/setup_intents/\w+$"),
    )
]

_NO_KEY = (
    "You did not provide an API key. You need to provide your API key in the Authorization "
    "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
    "https://stripe.com/docs/api#authentication for details, or we can help at "
    "https://support.stripe.com/."
)
_PUBLISHABLE_REFUSED = (
    "This API call cannot be made with a publishable API key. Please use a secret API key. "
    "You can find a list of your API keys at https://dashboard.stripe.com/account/apikeys."
)


def bearer_key(request: web.Request) -> str | None:
    """The key from ``Authorization: Bearer`` or ``Basic`` (key as user name), if any."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    value = value.strip()
    if scheme == "Bearer" and value:
        return value
    if scheme == "Basic" and value:
        try:
            return base64.b64decode(value).decode().split(":", 1)[0] or None
        except (binascii.Error, UnicodeDecodeError):
            return None
    return None


def resource_of(path: str) -> str:
    """The permission resource of an API path: ``/v1/payment_intents/pi_1/confirm`` -> ...s."""
    parts = path.split("/")
    return parts[2] if len(parts) > 2 else ""


def no_access(key: str, account_id: str) -> web.Response:
    """Stripe's answer to a key acting on an account it has no access to."""
    return error_response(
        403,
        "invalid_request_error",
        f"The provided key '{mask_key(key)}' does not have access to account '{account_id}' "
        "(or that account does not exist). Application access may have been revoked.",
        code="account_invalid",
        doc_url="https://stripe.com/docs/error-codes/account-invalid",
    )


def acting_account(
    connect: ConnectRegistry | None,
    api_key: ApiKey,
    request: web.Request,
    stripe_account: str | None = None,
) -> str | web.Response:
    """The account a call acts for: the key's, or its ``Stripe-Account`` if connected.

    ``stripe_account`` is the ``_stripe_account`` parameter Stripe.js sends instead of the
    header (``Stripe(pk, {stripeAccount})``); the header wins.
    """
    target = request.headers.get("Stripe-Account", "").strip() or (stripe_account or "")
    if not target or target == api_key.account_id:
        return api_key.account_id
    connection = connect.connection(api_key.account_id, target) if connect else None
    if connection is None:
        return no_access(api_key.key, target)
    if connection.scope == "read_only" and request.method != "GET":
        return error_response(
            403,
            "invalid_request_error",
            f"This application does not have the required permissions for this endpoint on "
            f"account '{target}' (it was granted read_only access).",
            code="account_invalid",
        )
    return target


def make_middleware(registry: KeyRegistry, connect: ConnectRegistry | None = None) -> Any:
    """The aiohttp middleware authenticating ``/v1/`` calls with ``registry`` (and the
    Connect ``connect`` registry for ``Stripe-Account``)."""

    @web.middleware
    async def auth_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
        if not request.path.startswith("/v1/"):
            return await handler(request)
        publishable_ok = any(
            request.method == m and p.match(request.path) for m, p in _PUBLISHABLE_OK
        )
        key = bearer_key(request)
        if key is None and publishable_ok:
            body_key = (await read_params(request)).get("key")
            key = body_key if isinstance(body_key, str) else None
        if not key:
            return error_response(401, "invalid_request_error", _NO_KEY)
        request[keys.MASKED_KEY] = mask_key(key)
        api_key = registry.lookup(key)
        if api_key is None:
            return error_response(
                401, "invalid_request_error", f"Invalid API Key provided: {mask_key(key)}"
            )
        if api_key.kind == "publishable" and not publishable_ok:
            return error_response(401, "invalid_request_error", _PUBLISHABLE_REFUSED)
        resource = resource_of(request.path)
        level = "read" if request.method == "GET" else "write"
        if not api_key.allows(resource, level):
            singular = resource[:-1] if resource.endswith("s") else resource
            return error_response(
                403,
                "invalid_request_error",
                f"The provided key '{mask_key(key)}' does not have the required permissions "
                f"for this endpoint on account '{api_key.account_id}'. Having the "
                f"'rak_{singular}_{level}' permission would allow this request to continue.",
            )
        stripe_account = None
        if api_key.kind == "publishable":
            param = (await read_params(request)).get("_stripe_account")
            stripe_account = param.strip() if isinstance(param, str) else None
        account_id = acting_account(connect, api_key, request, stripe_account)
        if isinstance(account_id, web.Response):
            return account_id
        request[keys.ACCOUNT] = account_id
        ctx = context.RequestContext(
            account_id=account_id,
            livemode=api_key.livemode,
            request_id=request.get(keys.REQUEST_ID),
            idempotency_key=request.headers.get("Idempotency-Key"),
            key_account_id=api_key.account_id,
            key_kind=api_key.kind,
        )
        with context.acting_as(ctx):
            return await handler(request)

    return auth_middleware
