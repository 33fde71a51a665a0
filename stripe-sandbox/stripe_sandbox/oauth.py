"""Stripe Connect OAuth endpoints, as stripe-python's ``client.oauth`` calls them.

- ``GET /oauth/authorize`` (and ``/express/oauth/authorize``): the consent page, with a
  "Grant access" and a "Deny" button posting back to ``POST /oauth/authorize``, which redirects
  to ``redirect_uri`` with ``code``/``scope``/``state`` or ``error=access_denied``/``state``.
  An unknown ``client_id`` or a missing/invalid ``redirect_uri`` gets a 400 error page.
- ``POST /oauth/token`` (platform secret key): ``grant_type=authorization_code`` with ``code``
  (usable once), or ``grant_type=refresh_token`` with ``refresh_token``.
- ``POST /oauth/deauthorize`` (platform secret key): ``client_id``, ``stripe_user_id``.
OAuth errors have Stripe's OAuth shape: 400 ``{"error": "invalid_grant", "error_description"}``.
"""

from __future__ import annotations

import html
import time
import urllib.parse
from typing import Any

from aiohttp import web

from stripe_sandbox.accounts import ApiKey, mask_key
from stripe_sandbox.auth import bearer_key
from stripe_sandbox.connect import CODE_LIFETIME_SECONDS, SCOPES, Platform
from stripe_sandbox.errors import error_response, json_response
from stripe_sandbox.params import read_params
from stripe_sandbox.state import STATE

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:32rem;margin:3rem auto;color:#1a1f36}}
.box{{border:1px solid #e3e8ee;border-radius:8px;padding:1.5rem}}
button{{font-size:1rem;padding:.5rem 1rem;margin-right:.5rem}}</style></head>
<body><div class="box">{body}</div></body></html>
"""


def _page(title: str, body: str, status: int = 200) -> web.Response:
    text = _PAGE.format(title=html.escape(title), body=body)
    return web.Response(text=text, status=status, content_type="text/html")


def _error_page(message: str) -> web.Response:
    body = f'<h1>Something went wrong</h1><p id="error">{html.escape(message)}</p>'
    return _page("Stripe Connect error", body, status=400)


def oauth_error(error: str, description: str, status: int = 400) -> web.Response:
    """Stripe's OAuth error body (stripe-python raises ``stripe.oauth_error.*`` for it)."""
    return json_response({"error": error, "error_description": description}, status=status)


def _redirect(uri: str, params: dict[str, str | None]) -> web.Response:
    query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
    location = uri + ("&" if "?" in uri else "?") + query
    return web.Response(status=302, headers={"Location": location})


def _check_request(params: dict[str, Any]) -> tuple[Platform, str] | web.Response:
    """The platform and redirect URI of an authorize request, or the error page."""
    client_id = params.get("client_id")
    platform = STATE.connect.platforms.get(client_id) if isinstance(client_id, str) else None
    if platform is None:
        return _error_page(f"No application matches the supplied client identifier {client_id}")
    redirect_uri = params.get("redirect_uri") or platform.redirect_uri
    if not isinstance(redirect_uri, str) or not redirect_uri.startswith(("http://", "https://")):
        return _error_page("Invalid redirect URI: an http(s) redirect_uri is required.")
    return platform, redirect_uri


def _account_name(account_id: str) -> str:
    acct = STATE.keys.accounts.get(account_id)
    return acct.name if acct else account_id


async def authorize_page(request: web.Request) -> web.Response:
    """``GET /oauth/authorize``: the consent page."""
    params = dict(request.query)
    checked = _check_request(params)
    if isinstance(checked, web.Response):
        return checked
    platform, redirect_uri = checked
    state = params.get("state")
    if params.get("response_type", "code") != "code":
        return _redirect(
            redirect_uri,
            {
                "error": "unsupported_response_type",
                "error_description": "Only response_type=code is supported.",
                "state": state,
            },
        )
    if params.get("scope", "read_only") not in SCOPES:
        return _redirect(
            redirect_uri,
            {
                "error": "invalid_scope",
                "error_description": f"Invalid scope: {params.get('scope')}",
                "state": state,
            },
        )
    acct = STATE.connect.account_to_connect(STATE.keys, platform)
    platform_name = _account_name(platform.account_id)
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in {**params, "account": acct.id}.items()
        if k != "decision"
    )
    body = (
        f"<h1>{html.escape(platform_name)} wants to connect to your Stripe account</h1>"
        f'<p>Account: <strong id="account-name">{html.escape(acct.name)}</strong> '
        f'(<code id="account-id">{html.escape(acct.id)}</code>)</p>'
        f"<p>Access requested: <code>{html.escape(params.get('scope', 'read_only'))}</code></p>"
        f'<form method="post" action="{html.escape(request.path)}">{hidden}'
        '<button type="submit" name="decision" value="grant" id="grant">Grant access</button>'
        '<button type="submit" name="decision" value="deny" id="deny">Deny</button>'
        "</form>"
    )
    return _page(f"Connect to {platform_name}", body)


async def authorize_decision(request: web.Request) -> web.Response:
    """``POST /oauth/authorize``: the consent page's buttons."""
    params = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
    checked = _check_request(params)
    if isinstance(checked, web.Response):
        return checked
    platform, redirect_uri = checked
    state = params.get("state")
    if params.get("decision") != "grant":
        return _redirect(
            redirect_uri,
            {
                "error": "access_denied",
                "error_description": "The user denied your request",
                "state": state,
            },
        )
    account_id = params.get("account") or ""
    if account_id not in STATE.keys.accounts:
        return _error_page(f"Unknown account {account_id}")
    scope = params.get("scope") or "read_only"
    if scope not in SCOPES:
        return _error_page(f"Invalid scope: {scope}")
    grant = STATE.connect.grant(platform, account_id, scope, livemode=platform.livemode)
    return _redirect(redirect_uri, {"code": grant.code, "scope": scope, "state": state})


def _platform_key(request: web.Request) -> tuple[ApiKey, Platform] | web.Response:
    """The platform secret key authenticating a token/deauthorize call, or the error."""
    key = bearer_key(request)
    if not key:
        return error_response(401, "invalid_request_error", "You did not provide an API key.")
    api_key = STATE.keys.lookup(key)
    if api_key is None or api_key.kind != "secret":
        return error_response(
            401, "invalid_request_error", f"Invalid API Key provided: {mask_key(key)}"
        )
    platform = STATE.connect.platform_of_account(api_key.account_id)
    if platform is None:
        return oauth_error(
            "invalid_client",
            f"The account {api_key.account_id} is not a Connect platform (no client_id).",
            status=401,
        )
    return api_key, platform


def _token_body(connection: Any, access_token: str, publishable: str, live: bool) -> dict:
    return {
        "access_token": access_token,
        "livemode": live,
        "refresh_token": connection.refresh_token,
        "scope": connection.scope,
        "stripe_publishable_key": publishable,
        "stripe_user_id": connection.account_id,
        "token_type": "bearer",
    }


async def token(request: web.Request) -> web.Response:
    """``POST /oauth/token``."""
    checked = _platform_key(request)
    if isinstance(checked, web.Response):
        return checked
    api_key, platform = checked
    params = await read_params(request)
    grant_type = params.get("grant_type")
    if grant_type == "refresh_token":
        connection = STATE.connect.by_refresh_token(platform, str(params.get("refresh_token")))
        if connection is None:
            return oauth_error(
                "invalid_grant", f"Invalid refresh token: {params.get('refresh_token')}"
            )
        access_token, publishable = STATE.connect.issue_tokens(
            STATE.keys, connection, api_key.livemode
        )
        return json_response(_token_body(connection, access_token, publishable, api_key.livemode))
    if grant_type != "authorization_code":
        return oauth_error(
            "unsupported_grant_type", f"Unsupported grant type: {grant_type}", status=400
        )
    code = params.get("code")
    if not code:
        return oauth_error("invalid_request", "No authorization code provided")
    grant = STATE.connect.codes.get(str(code))
    if (
        grant is None
        or grant.client_id != platform.client_id
        or grant.used
        or time.time() - grant.created > CODE_LIFETIME_SECONDS
    ):
        if grant is not None and grant.used:
            return oauth_error("invalid_grant", f"Authorization code already used: {code}")
        if grant is not None and grant.client_id == platform.client_id:
            return oauth_error("invalid_grant", f"Authorization code expired: {code}")
        return oauth_error("invalid_grant", f"Authorization code does not exist: {code}")
    grant.used = True
    connection, access_token, publishable = STATE.connect.connect(STATE.keys, grant)
    return json_response(_token_body(connection, access_token, publishable, grant.livemode))


async def deauthorize(request: web.Request) -> web.Response:
    """``POST /oauth/deauthorize``."""
    checked = _platform_key(request)
    if isinstance(checked, web.Response):
        return checked
    _api_key, platform = checked
    params = await read_params(request)
    client_id = params.get("client_id")
    if client_id != platform.client_id:
        return oauth_error(
            "invalid_client", f"No application matches the supplied client identifier {client_id}"
        )
    account_id = str(params.get("stripe_user_id") or "")
    if not STATE.connect.deauthorize(STATE.keys, platform, account_id):
        return oauth_error(
            "invalid_client",
            f"This application is not connected to stripe account {account_id}, "
            "or that account does not exist.",
        )
    return json_response({"stripe_user_id": account_id})


def add_routes(app: web.Application) -> None:
    """Mount the OAuth endpoints on ``app``."""
    for prefix in ("", "/express"):
        app.router.add_get(prefix + "/oauth/authorize", authorize_page)
        app.router.add_post(prefix + "/oauth/authorize", authorize_decision)
    app.router.add_post("/oauth/token", token)
    app.router.add_post("/oauth/deauthorize", deauthorize)
