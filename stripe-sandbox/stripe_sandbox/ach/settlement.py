"""Settling processing ACH debits through the control API (``/_sandbox/ach/settle`` and
``/_sandbox/ach/settle_all``): success, or the failures of the test accounts or a forced
``failure_code``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web
from localstripe.resources import (
    BalanceTransaction,
    PaymentMethod,
)

from stripe_sandbox import context
from stripe_sandbox.ach.bank_accounts import is_bank
from stripe_sandbox.cards import Decline
from stripe_sandbox.extensions.objects import emit
from stripe_sandbox.store import STORE


@dataclass(frozen=True)
class Failure:
    """How an ACH debit fails at settlement: the return ``code`` and the charge message."""

    code: str
    message: str
    network_code: str


ACCOUNT_CLOSED = Failure("account_closed", "The customer's bank account has been closed.", "R02")
INSUFFICIENT_FUNDS = Failure(
    "insufficient_funds",
    "The customer's account has insufficient funds to cover this payment.",
    "R01",
)
NO_ACCOUNT = Failure("no_account", "The customer's bank account could not be located.", "R03")
DEBIT_NOT_AUTHORIZED = Failure(
    "debit_not_authorized",
    "The customer has notified their bank that this payment was unauthorized.",
    "R10",
)
# Test account numbers whose debits fail when settled.
FAILING_ACCOUNTS: dict[str, Failure] = {
    "000111111113": ACCOUNT_CLOSED,
    "000222222227": INSUFFICIENT_FUNDS,
}
# Failures the control API can force with ``failure_code``.
FAILURES = {
    f.code: f for f in (ACCOUNT_CLOSED, INSUFFICIENT_FUNDS, NO_ACCOUNT, DEBIT_NOT_AUTHORIZED)
}


def _bank_charge(intent: Any) -> Any:
    charge = intent.latest_charge
    if charge is None or charge.status != "pending":
        return None
    pm = STORE.get("payment_method:" + str(charge.payment_method))
    return charge if pm is not None and is_bank(pm) else None


def settle(intent: Any, failure_code: str | None = None) -> Any:
    """Settle the processing ACH PaymentIntent ``intent`` (in its account's context)."""
    charge = _bank_charge(intent)
    if charge is None:
        raise ValueError(
            f"{intent.id} is not a processing us_bank_account payment (status {intent.status})"
        )
    pm = PaymentMethod._api_retrieve(charge.payment_method)
    if failure_code is not None:
        if failure_code not in FAILURES:
            raise ValueError(f"unknown failure_code; one of {', '.join(sorted(FAILURES))}")
        failure = FAILURES[failure_code]
    else:
        failure = FAILING_ACCOUNTS.get(getattr(pm, "_account_number", ""))
    if failure is None:
        txn = BalanceTransaction(
            amount=charge.amount,
            currency=charge.currency,
            description=charge.description,
            exchange_rate=1.0,
            reporting_category="charge",
            source=charge.id,
            type="charge",
        )
        charge.balance_transaction = txn.id
        charge.status = "succeeded"
        emit("charge.succeeded", charge)
        intent._on_success()
        return intent
    charge.status = "failed"
    charge.failure_code = failure.code
    charge.failure_message = failure.message
    charge._decline = Decline(failure.code, failure.code, failure.message)
    if failure is ACCOUNT_CLOSED or failure is NO_ACCOUNT:
        pm.us_bank_account["status_details"] = {
            "blocked": {
                "network_code": failure.network_code,
                "reason": "bank_account_closed" if failure is ACCOUNT_CLOSED else "no_account",
            }
        }
    emit("charge.failed", charge)
    intent._report_async_failure()
    return intent


def _find_intent(intent_id: str) -> tuple[str, Any] | None:
    for account_id, partition in list(STORE.partitions.items()):
        intent = partition.get("payment_intent:" + intent_id)
        if intent is not None:
            return account_id, intent
    return None


async def _json(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        data = await request.json()
    except ValueError as exc:
        raise web.HTTPBadRequest(text=f"invalid JSON: {exc}") from exc
    return data if isinstance(data, dict) else {}


def _bad(message: str, status: int = 400) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def settle_handler(request: web.Request) -> web.Response:
    """``POST /_sandbox/ach/settle`` ``{"payment_intent", "failure_code"?}``."""
    data = await _json(request)
    found = _find_intent(str(data.get("payment_intent") or ""))
    if found is None:
        return _bad("no such payment_intent", 404)
    account_id, intent = found
    ctx = context.RequestContext(account_id=account_id, livemode=bool(intent.livemode))
    with context.acting_as(ctx):
        try:
            settle(intent, data.get("failure_code"))
        except ValueError as exc:
            return _bad(str(exc))
        return web.json_response(intent._export())


async def settle_all_handler(request: web.Request) -> web.Response:
    """``POST /_sandbox/ach/settle_all`` ``{"secret_key" | "account"}``: every processing ACH
    PaymentIntent of the account; answers ``{"settled": [intent, ...]}``."""
    from stripe_sandbox.state import STATE  # state imports the app's modules

    data = await _json(request)
    account_id = data.get("account")
    if not account_id:
        api_key = STATE.keys.lookup(data.get("secret_key") or "")
        account_id = api_key.account_id if api_key else None
    if not account_id or account_id not in STATE.keys.accounts:
        return _bad("unknown account or key")
    settled = []
    with context.acting_as(context.RequestContext(account_id=account_id)):
        intents = [
            obj
            for key, obj in STORE.items()
            if key.startswith("payment_intent:") and _bank_charge(obj) is not None
        ]
        for intent in sorted(intents, key=lambda i: i.created):
            with context.acting_as(
                context.RequestContext(account_id=account_id, livemode=bool(intent.livemode))
            ):
                settle(intent)
            settled.append(intent._export())
    return web.json_response({"settled": settled})


def add_routes(app: web.Application) -> None:
    """Mount the ACH control endpoints."""
    app.router.add_post("/_sandbox/ach/settle", settle_handler)
    app.router.add_post("/_sandbox/ach/settle_all", settle_all_handler)
