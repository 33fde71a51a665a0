"""Charges and refunds: Stripe's amount bounds, card errors naming their PaymentMethod,
``charge.*`` events, Stripe's charge fields, refunds of what remains.
"""

from __future__ import annotations

from typing import Any

from localstripe import resources as ls
from localstripe.errors import UserError
from localstripe.resources import (
    Charge,
    PaymentMethod,
    Refund,
)

from stripe_sandbox import amounts, cards
from stripe_sandbox.cards import Decline
from stripe_sandbox.errors import card_error
from stripe_sandbox.extensions.objects import emit
from stripe_sandbox.extensions.payment_methods import card_of_token, exported_payment_method


def check_amount(amount: Any, currency: Any) -> None:
    """Stripe's 400 for an amount it does not charge (see ``amounts``)."""
    amounts.check_charge_amount(
        ls.try_convert_to_int(amount), currency, amounts.settlement_currency()
    )


def decline_of(charge: Any) -> Decline:
    """The decline of a failed charge (forced, by card number, or generic)."""
    decline = getattr(charge, "_decline", None)
    if decline is None:
        pm = PaymentMethod._api_retrieve(charge.payment_method)
        decline = cards.decline_for(getattr(pm, "_card_number", None)) or cards.GENERIC_DECLINE
    return decline


def patch_charges() -> None:
    def _set_auth_failure(self: Any) -> None:
        # localstripe always says card_declined; use the card's own failure.
        decline = decline_of(self)
        self._decline = decline
        self.status = "failed"
        self.failure_code = decline.code
        self.failure_message = decline.message

    Charge._set_auth_failure = _set_auth_failure  # type: ignore[method-assign]

    def _raise_failure(self: Any) -> None:
        decline = decline_of(self)
        raise card_error(
            self.failure_message,
            code=self.failure_code,
            decline_code=decline.decline_code,
            charge=self.id,
            payment_method=exported_payment_method(self.payment_method),
        )

    Charge._raise_failure = _raise_failure  # type: ignore[method-assign]

    orig_charge_create = Charge._api_create.__func__  # type: ignore[attr-defined]

    def charge_create(cls: Any, **data: Any) -> Any:
        # Stripe's amount bounds; a test token (tok_visa) as the source is a card to charge.
        check_amount(data.get("amount"), data.get("currency"))
        source = data.get("source")
        if isinstance(source, str) and source.startswith("tok_"):
            data["source"] = PaymentMethod(type="card", card=card_of_token(source)).id
        return orig_charge_create(cls, **data)

    Charge._api_create = classmethod(charge_create)  # type: ignore[assignment]

    orig_initialize = Charge._initialize_charge

    def _initialize_charge(
        self: Any, on_success: Any = None, on_failure_now: Any = None, on_failure_later: Any = None
    ) -> None:
        # localstripe emits no charge.* events.
        def succeeded() -> None:
            emit("charge.succeeded", self)
            if on_success:
                on_success()

        def failed_now() -> None:
            emit("charge.failed", self)
            if on_failure_now:
                on_failure_now()

        def failed_later() -> None:
            emit("charge.failed", self)
            if on_failure_later:
                on_failure_later()

        orig_initialize(self, succeeded, failed_now, failed_later)
        if self.status == "succeeded" and not self.captured:
            emit("charge.succeeded", self)  # authorized, to be captured later

    Charge._initialize_charge = _initialize_charge  # type: ignore[method-assign]

    orig_capture = Charge._capture

    def _capture(self: Any, amount: Any, on_success: Any = None) -> None:
        def captured() -> None:
            emit("charge.captured", self)
            if on_success:
                on_success()

        orig_capture(self, amount, captured)

    Charge._capture = _capture  # type: ignore[method-assign]

    orig_export = Charge._export

    def _export(self: Any, expand: Any = None) -> dict[str, Any]:
        # Fields of Stripe's charge that localstripe lacks.
        obj = orig_export(self, expand)
        decline = getattr(self, "_decline", None) if self.status == "failed" else None
        obj["amount_captured"] = self.amount if self.captured and self.status == "succeeded" else 0
        obj["disputed"] = False
        obj["outcome"] = {
            "network_status": "declined_by_network" if decline else "approved_by_network",
            "reason": decline.decline_code if decline else None,
            "risk_level": "normal",
            "seller_message": "The bank did not return any further details with this decline."
            if decline
            else "Payment complete.",
            "type": "issuer_declined" if decline else "authorized",
        }
        pm = ls.store.get("payment_method:" + str(self.payment_method))
        if pm is not None and getattr(pm, "type", None) == "card":
            obj["billing_details"] = pm.billing_details
            obj["payment_method_details"] = {"type": "card", "card": dict(pm.card)}
        return obj

    Charge._export = _export  # type: ignore[method-assign]

    orig_refund_init = Refund.__init__

    def refund_init(self: Any, *args: Any, reason: Any = None, **kw: Any) -> None:
        # Stripe takes a reason, links the refund to the PaymentIntent and emits
        # refund.created and charge.refunded; it refuses more than what is left to refund.
        _check_refundable(kw)
        orig_refund_init(self, *args, **kw)
        charge = Charge._api_retrieve(self.charge)
        self.reason = reason
        self.payment_intent = self.payment_intent or charge.payment_intent
        emit("refund.created", self)
        emit("charge.refunded", charge)

    Refund.__init__ = refund_init  # type: ignore[method-assign]


def _check_refundable(kw: dict[str, Any]) -> None:
    charge_id = kw.get("charge")
    if kw.get("payment_intent"):
        intent = ls.store.get("payment_intent:" + str(kw["payment_intent"]))
        latest = getattr(intent, "latest_charge", None)
        charge_id = getattr(latest, "id", latest)
    charge = ls.store.get("charge:" + str(charge_id)) if charge_id else None
    if charge is None:
        return  # localstripe answers the 404 / 400 itself
    left = charge.amount - (getattr(charge, "amount_refunded", 0) or 0)
    if left <= 0:
        raise UserError(
            400,
            f"Charge {charge.id} has already been refunded.",
            {"code": "charge_already_refunded"},
        )
    if kw.get("amount") is None:
        kw["amount"] = left  # Stripe refunds what remains; localstripe the whole charge
    wanted = ls.try_convert_to_int(kw.get("amount"))
    if isinstance(wanted, int) and wanted > left:
        raise UserError(
            400,
            f"Refund amount ({wanted}) is greater than unrefunded amount on charge ({left})",
            {"code": "amount_too_large", "param": "amount"},
        )
