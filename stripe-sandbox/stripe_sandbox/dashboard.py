"""API routes a Stripe dashboard needs that localstripe lacks or gets wrong.

- ``GET /v1/balance``: per account; ``available`` as set through the control API, ``pending`` as
  set plus the net (amount minus refunds; the sandbox charges no fees) of succeeded, captured
  charges, by currency.
- ``GET /v1/accounts/{id}``, ``GET /v1/accounts/{id}/external_accounts[/{ba}]``: the account
  itself or one connected to the key's (platform) account.
- ``GET /v1/customers/search`` (``search``).
- ``GET /v1/customers/{id}``: a deleted customer answers Stripe's ``{"deleted": true}`` stub.
- ``GET /v1/customers/{id}/payment_methods``: the customer's payment methods (``type``
  optional).
- every list route: ``ending_before`` and Stripe's ``limit`` of 1..100
  (``pagination.list_handler``).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from localstripe.errors import UserError
from localstripe.resources import Customer, List

from stripe_sandbox import auth, request_keys
from stripe_sandbox.accounts import Account
from stripe_sandbox.context import RequestContext, current
from stripe_sandbox.errors import json_response
from stripe_sandbox.extensions.lists import DELETED_CUSTOMER_PREFIX
from stripe_sandbox.ls_server import unflatten_data
from stripe_sandbox.pagination import check_limit, paginate
from stripe_sandbox.search import search_customers
from stripe_sandbox.state import STATE
from stripe_sandbox.store import STORE


def _ctx() -> RequestContext:
    ctx = current()
    assert ctx is not None  # the auth middleware ran
    return ctx


# Balance -----------------------------------------------------------------------------------
def _amounts(entries: list[dict[str, Any]]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for entry in entries:
        currency = str(entry["currency"]).lower()
        totals[currency] = totals.get(currency, 0) + int(entry["amount"])
    return totals


def validate_amounts(entries: Any) -> list[dict[str, Any]]:
    """Control API input ``[{"amount": int, "currency": str}]``; raises ValueError."""
    if not isinstance(entries, list):
        raise ValueError("expected a list of {amount, currency}")
    out = []
    for entry in entries:
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("amount"), int)
            or not isinstance(entry.get("currency"), str)
        ):
            raise ValueError("each entry needs an integer amount and a currency")
        out.append({"amount": entry["amount"], "currency": entry["currency"].lower()})
    return out


def charges_net(account_id: str) -> dict[str, int]:
    """Net of the succeeded, captured charges of ``account_id``, by currency (run in its
    context: refunds are looked up in the current partition)."""
    totals: dict[str, int] = {}
    for key, charge in list(STORE.for_account(account_id).items()):
        if not key.startswith("charge:"):
            continue
        if charge.status != "succeeded" or not charge.captured:
            continue
        net = charge.amount - (charge.amount_refunded or 0)
        totals[charge.currency] = totals.get(charge.currency, 0) + net
    return totals


def balance_of(acct: Account, livemode: bool) -> dict[str, Any]:
    """The ``balance`` object of ``acct``."""
    available = _amounts(acct.balance_available)
    pending = _amounts(acct.balance_pending)
    for currency, amount in charges_net(acct.id).items():
        pending[currency] = pending.get(currency, 0) + amount
    currencies = [acct.default_currency] + sorted(
        (set(available) | set(pending)) - {acct.default_currency}
    )

    def entries(totals: dict[str, int]) -> list[dict[str, Any]]:
        return [
            {
                "amount": totals.get(c, 0),
                "currency": c,
                "source_types": {"card": totals.get(c, 0)},
            }
            for c in currencies
        ]

    return {
        "object": "balance",
        "available": entries(available),
        "connect_reserved": [{"amount": 0, "currency": c} for c in currencies],
        "livemode": livemode,
        "pending": entries(pending),
    }


async def retrieve_balance(request: web.Request) -> web.Response:
    """``GET /v1/balance``."""
    ctx = _ctx()
    return json_response(balance_of(STATE.keys.accounts[ctx.account_id], ctx.livemode))


# Accounts and bank accounts ----------------------------------------------------------------
def _account_for(request: web.Request) -> Account | web.Response:
    """The account in the path, if the caller may see it (itself, or connected to it)."""
    ctx = _ctx()
    account_id = request.match_info["account"]
    allowed = account_id == ctx.account_id or (
        STATE.connect.connection(ctx.key_account_id or ctx.account_id, account_id) is not None
    )
    acct = STATE.keys.accounts.get(account_id)
    if not allowed or acct is None:
        return auth.no_access(request.get(request_keys.MASKED_KEY, ""), account_id)
    return acct


async def retrieve_account(request: web.Request) -> web.Response:
    """``GET /v1/account`` (the acting account) or ``GET /v1/accounts/{account}``."""
    if "account" not in request.match_info:
        return json_response(STATE.keys.accounts[_ctx().account_id].export())
    acct = _account_for(request)
    return acct if isinstance(acct, web.Response) else json_response(acct.export())


async def list_external_accounts(request: web.Request) -> web.Response:
    """``GET /v1/accounts/{account}/external_accounts?object=bank_account|card``."""
    acct = _account_for(request)
    if isinstance(acct, web.Response):
        return acct
    data = unflatten_data(request.query) or {}
    check_limit(data)
    kind = data.get("object")
    if kind not in (None, "bank_account", "card"):
        raise UserError(400, f"Invalid object: {kind}", {"param": "object"})
    items = [b for b in acct.external_accounts if kind in (None, b["object"])]
    limit = int(data.get("limit") or 10)
    start = 0
    if data.get("starting_after"):
        ids = [b["id"] for b in items]
        start = ids.index(data["starting_after"]) + 1 if data["starting_after"] in ids else 0
    return json_response(
        {
            "object": "list",
            "data": items[start : start + limit],
            "has_more": len(items) > start + limit,
            "url": f"/v1/accounts/{acct.id}/external_accounts",
        }
    )


async def retrieve_external_account(request: web.Request) -> web.Response:
    """``GET /v1/accounts/{account}/external_accounts/{id}``."""
    acct = _account_for(request)
    if isinstance(acct, web.Response):
        return acct
    for bank in acct.external_accounts:
        if bank["id"] == request.match_info["id"]:
            return json_response(bank)
    raise UserError(404, f"No such external account: '{request.match_info['id']}'")


# Customers ---------------------------------------------------------------------------------
async def retrieve_customer(request: web.Request) -> web.Response:
    """``GET /v1/customers/{id}``: localstripe's retrieve, or the deleted stub."""
    customer_id = request.match_info["id"]
    tombstone = STORE.get(DELETED_CUSTOMER_PREFIX + customer_id)
    if tombstone is not None and STORE.get("customer:" + customer_id) is None:
        return json_response(tombstone)
    data = unflatten_data(request.query) or {}
    return json_response(Customer._api_retrieve(customer_id)._export(expand=data.get("expand")))


async def customer_payment_methods(request: web.Request) -> web.Response:
    """``GET /v1/customers/{id}/payment_methods?type=``."""
    customer_id = request.match_info["id"]
    Customer._api_retrieve(customer_id)  # 404 if unknown
    data = unflatten_data(request.query) or {}
    expand = data.pop("expand", None)
    ending_before = data.pop("ending_before", None)
    type_ = data.pop("type", None)
    check_limit(data)
    li = List(
        f"/v1/customers/{customer_id}/payment_methods",
        limit=data.get("limit"),
        starting_after=data.get("starting_after"),
    )
    li._list = [
        pm
        for key, pm in reversed(STORE.items())  # newest first
        if key.startswith("payment_method:")
        and pm.customer == customer_id
        and (type_ is None or pm.type == type_)
    ]
    return json_response(paginate(li, ending_before)._export(expand=expand))


def add_routes(app: web.Application) -> None:
    """Mount these routes; call before localstripe's ``/v1/customers/{id}`` routes."""
    app.router.add_get("/v1/balance", retrieve_balance)
    app.router.add_get("/v1/account", retrieve_account)
    app.router.add_get("/v1/accounts/{account}", retrieve_account)
    app.router.add_get("/v1/accounts/{account}/external_accounts", list_external_accounts)
    app.router.add_get("/v1/accounts/{account}/external_accounts/{id}", retrieve_external_account)
    app.router.add_get("/v1/customers/search", search_customers)
    app.router.add_get("/v1/customers/{id}", retrieve_customer)
    app.router.add_get("/v1/customers/{id}/payment_methods", customer_payment_methods)
