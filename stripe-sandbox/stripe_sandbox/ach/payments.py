"""Bank account PaymentIntents: Stripe's checks before a debit, the pending charge that
keeps the intent ``processing`` until settled, and the charge's bank details.
"""

from __future__ import annotations

import contextvars
from typing import Any

from localstripe.errors import UserError
from localstripe.resources import (
    Charge,
    PaymentIntent,
    PaymentMethod,
    try_convert_to_bool,
)

from stripe_sandbox import stripe_js
from stripe_sandbox.ach.bank_accounts import (
    TYPE,
    check_type_allowed,
    involves_bank,
    is_bank,
    verification_of,
)
from stripe_sandbox.ach.mandates import Mandate, validate_mandate_data
from stripe_sandbox.extensions.objects import emit, rebind_extra_api
from stripe_sandbox.extensions.payment_intents import is_off_session
from stripe_sandbox.extensions.payment_methods import resolve_payment_method
from stripe_sandbox.store import STORE

# mandate_data of the PaymentIntent call being served (read when its charge is created).
_mandate_data: contextvars.ContextVar[Any] = contextvars.ContextVar(
    "ach_mandate_data", default=None
)


def _check_bank_payment(
    *,
    pm: Any,
    currency: Any,
    customer: Any,
    types: list[str],
    automatic: bool,
    mandate_data: Any,
    mandate: Any,
    off_session: Any,
    confirm: bool,
) -> None:
    """Stripe's checks before a PaymentIntent is confirmed with a bank account."""
    if currency is not None and str(currency).lower() != "usd":
        raise UserError(
            400,
            f"The currency provided ({currency}) is invalid. Payments with us_bank_account "
            "support the following currencies: usd.",
            {"param": "currency", "code": "payment_intent_invalid_currency"},
        )
    if pm is None:
        return
    if not automatic:
        check_type_allowed("PaymentIntent", types, pm.type)
    state = verification_of(pm)
    if not state.verified:
        raise UserError(
            400,
            f"The PaymentMethod {pm.id} (us_bank_account) has not been verified. Verify the "
            "bank account with microdeposits (a SetupIntent) before using it for a payment.",
            {"param": "payment_method", "code": "payment_method_unactivated"},
        )
    if pm.customer is not None and customer != pm.customer:
        raise UserError(
            400,
            "The provided PaymentMethod belongs to a customer; pass that customer with the "
            "PaymentIntent.",
            {"param": "customer"},
        )
    if not confirm:
        return
    if mandate_data is not None:
        validate_mandate_data(mandate_data)
    elif mandate is not None:
        obj = STORE.get("mandate:" + str(mandate))
        if obj is None or obj.payment_method != pm.id:
            raise UserError(
                400,
                f"No such mandate: '{mandate}'",
                {"param": "mandate", "code": "resource_missing"},
            )
    elif not is_off_session(off_session):
        raise UserError(
            400,
            "A mandate is required to confirm a us_bank_account payment: pass mandate_data "
            "(customer acceptance), mandate, or off_session=true with a bank account verified "
            "through a SetupIntent.",
            {"param": "mandate_data"},
        )


def patch_payment_intents() -> None:
    prev_create = PaymentIntent._api_create.__func__  # type: ignore[attr-defined]

    def _api_create(cls: Any, confirm: Any = None, off_session: Any = None, **data: Any) -> Any:
        # Test ids (pm_card_visa) are cards: no need to resolve them (that creates one).
        pm_id = data.get("payment_method")
        if not involves_bank(data.get("payment_method_types"), pm_id, None):
            return prev_create(cls, confirm=confirm, off_session=off_session, **data)
        mandate_data = data.pop("mandate_data", None)
        mandate = data.pop("mandate", None)
        pm_id = resolve_payment_method(pm_id)
        data["payment_method"] = pm_id
        pm = PaymentMethod._api_retrieve(pm_id) if isinstance(pm_id, str) else None
        if pm is not None and not is_bank(pm):
            pm = None  # a card: localstripe's checks (the types check is below)
            check_type_allowed(
                "PaymentIntent", data.get("payment_method_types") or ["card"], "card"
            )
        apm = data.get("automatic_payment_methods")
        _check_bank_payment(
            pm=pm,
            currency=data.get("currency"),
            customer=data.get("customer"),
            types=data.get("payment_method_types") or ["card"],
            automatic=isinstance(apm, dict) and try_convert_to_bool(apm.get("enabled")) is True,
            mandate_data=mandate_data,
            mandate=mandate,
            off_session=off_session,
            confirm=try_convert_to_bool(confirm) is True,
        )
        token = _mandate_data.set(mandate_data)
        try:
            return prev_create(cls, confirm=confirm, off_session=off_session, **data)
        finally:
            _mandate_data.reset(token)

    PaymentIntent._api_create = classmethod(_api_create)  # type: ignore[assignment]

    prev_confirm = PaymentIntent._api_confirm.__func__  # type: ignore[attr-defined]

    def _api_confirm(
        cls: Any,
        id: str,
        payment_method: Any = None,
        off_session: Any = None,
        mandate_data: Any = None,
        mandate: Any = None,
        **kw: Any,
    ) -> Any:
        obj = cls._api_retrieve(id)
        pm_id = payment_method or obj.payment_method
        bank = involves_bank(obj.payment_method_types, pm_id, None)
        if not bank:
            if mandate_data is not None:
                kw["mandate_data"] = mandate_data
            if mandate is not None:
                kw["mandate"] = mandate
            return prev_confirm(
                cls, id, payment_method=payment_method, off_session=off_session, **kw
            )
        stripe_js.check_client_secret(obj, kw.get("client_secret"))
        pm_id = resolve_payment_method(pm_id)
        if payment_method is not None:
            payment_method = pm_id
        pm = PaymentMethod._api_retrieve(pm_id) if isinstance(pm_id, str) else None
        if (
            pm is not None
            and is_bank(pm)
            and obj.status
            in (
                "requires_payment_method",
                "requires_confirmation",
            )
        ):
            apm = getattr(obj, "automatic_payment_methods", None) or {}
            _check_bank_payment(
                pm=pm,
                currency=obj.currency,
                customer=obj.customer,
                types=obj.payment_method_types,
                automatic=apm.get("enabled") is True,
                mandate_data=mandate_data,
                mandate=mandate,
                off_session=off_session if off_session is not None else obj._off_session,
                confirm=True,
            )
        token = _mandate_data.set(mandate_data)
        try:
            return prev_confirm(
                cls, id, payment_method=payment_method, off_session=off_session, **kw
            )
        finally:
            _mandate_data.reset(token)

    PaymentIntent._api_confirm = classmethod(_api_confirm)  # type: ignore[assignment]
    rebind_extra_api("/v1/payment_intents/{id}/confirm", PaymentIntent._api_confirm)

    prev_confirm_inner = PaymentIntent._confirm

    def _confirm(self: Any, on_failure_now: Any) -> None:
        pm = PaymentMethod._api_retrieve(self.payment_method)
        if not is_bank(pm):
            prev_confirm_inner(self, on_failure_now)
            return
        self._authentication_failed = False
        _start_debit(self, pm)

    PaymentIntent._confirm = _confirm  # type: ignore[method-assign]


def _start_debit(intent: Any, pm: Any) -> None:
    """A pending ACH charge: the PaymentIntent is ``processing`` until settled."""
    state = verification_of(pm)
    mandate_data = _mandate_data.get()
    if mandate_data is not None:
        mandate_id = Mandate(pm, mandate_data).id
    else:
        mandate_id = state.mandate
    charge = Charge(
        amount=intent.amount,
        currency=intent.currency,
        customer=intent.customer,
        source=pm.id,
        capture=True,
        description=getattr(intent, "description", None),
        metadata=dict(intent.metadata or {}),
        statement_descriptor=getattr(intent, "statement_descriptor", None),
    )
    charge.payment_intent = intent.id
    charge.receipt_email = getattr(intent, "receipt_email", None)
    charge.status = "pending"
    charge._ach_mandate = mandate_id
    intent.latest_charge = charge
    intent.next_action = None
    emit("charge.pending", charge)
    emit("payment_intent.processing", intent)


def patch_charges() -> None:
    prev_export = Charge._export

    def _export(self: Any, expand: Any = None) -> dict[str, Any]:
        obj = prev_export(self, expand)
        pm = STORE.get("payment_method:" + str(self.payment_method))
        if pm is None or not is_bank(pm):
            return obj
        details = {
            k: pm.us_bank_account[k]
            for k in (
                "account_holder_type",
                "account_type",
                "bank_name",
                "fingerprint",
                "last4",
                "routing_number",
            )
        }
        details["mandate"] = getattr(self, "_ach_mandate", None)
        details["payment_reference"] = None
        obj["billing_details"] = pm.billing_details
        obj["payment_method_details"] = {"type": TYPE, TYPE: details}
        if self.status == "pending":
            obj["outcome"] = None
        elif obj.get("outcome"):
            obj["outcome"]["risk_level"] = "not_assessed"
            if self.status == "failed":
                obj["outcome"]["seller_message"] = self.failure_message
        return obj

    Charge._export = _export  # type: ignore[method-assign]
