"""Card PaymentMethods as on Stripe: every test card and PaymentMethod id, test tokens
(``tok_visa``), brands and last4, declines on charging, and cards set up for off-session
use.
"""

from __future__ import annotations

import datetime
from typing import Any

from localstripe import resources as ls
from localstripe.errors import UserError
from localstripe.resources import (
    PaymentMethod,
)

from stripe_sandbox import cards
from stripe_sandbox.extensions.objects import rebind_extra_api


def patch_payment_methods() -> None:
    orig_init = PaymentMethod.__init__

    def __init__(self: Any, type: Any = None, billing_details: Any = None, card: Any = None, **kw):
        number = None
        if type == "card" and isinstance(card, dict) and "token" in card:
            card = card_of_token(card["token"])
        if type == "card" and isinstance(card, dict) and isinstance(card.get("number"), str):
            number = card["number"].replace(" ", "")
            cvc = card.get("cvc")
            # localstripe accepts only 16-digit numbers and 3-digit CVCs; Amex (15 digits,
            # CVC of 4) and Diners (14) are valid test cards too. Validate with stand-ins.
            card = dict(card)
            if number.isdigit() and 14 <= len(number) <= 19:
                card["number"] = "4242424242424242"
            if isinstance(cvc, str) and cvc.isdigit() and len(cvc) in (3, 4):
                card["cvc"] = "123"
        orig_init(self, type=type, billing_details=billing_details, card=card, **kw)
        if number is not None:
            self._card_number = number
            # localstripe reports every card as a French visa.
            self.card.update(
                last4=number[-4:],
                brand=cards.brand(number),
                country="US",
                fingerprint=ls.fingerprint(number),
            )

    PaymentMethod.__init__ = __init__  # type: ignore[method-assign]

    def _try_get_canonical_test_article(cls: Any, id: str) -> Any:
        # localstripe knows only three test ids; Stripe documents many more.
        number = cards.TEST_PAYMENT_METHODS.get(id)
        if number is None:
            return None
        year = str(datetime.date.today().year + 5)
        return PaymentMethod(
            type="card", card={"number": number, "exp_month": "12", "exp_year": year, "cvc": "123"}
        )

    PaymentMethod._try_get_canonical_test_article = classmethod(_try_get_canonical_test_article)  # type: ignore[assignment]

    orig_declined = PaymentMethod._charging_is_declined

    def _charging_is_declined(self: Any) -> bool:
        # localstripe declines 4000000000000002 etc. only when attaching, Stripe on charging.
        return cards.decline_for(getattr(self, "_card_number", None)) is not None or bool(
            orig_declined(self)
        )

    PaymentMethod._charging_is_declined = _charging_is_declined  # type: ignore[method-assign]

    orig_attach = PaymentMethod._api_attach.__func__  # type: ignore[attr-defined]

    def _api_attach(cls: Any, id: str, **kw: Any) -> Any:
        try:
            return orig_attach(cls, id, **kw)
        except UserError as exc:
            # Give the decline its decline_code, like Stripe.
            number = cards.TEST_PAYMENT_METHODS.get(id) or getattr(
                ls.store.get("payment_method:" + id), "_card_number", None
            )
            decline = cards.decline_for(number)
            if exc.code == 402 and decline:
                exc.body["error"].update(
                    code=decline.code, decline_code=decline.decline_code, message=decline.message
                )
            raise

    PaymentMethod._api_attach = classmethod(_api_attach)  # type: ignore[assignment]
    rebind_extra_api("/v1/payment_methods/{id}/attach", PaymentMethod._api_attach)


def card_of_token(token: Any) -> dict[str, Any]:
    """The card of a test token (``tok_visa``) or of a token made by ``POST /v1/tokens``."""
    year = str(datetime.date.today().year + 5)
    if isinstance(token, str) and token in cards.TEST_TOKENS:
        return {"number": cards.TEST_TOKENS[token], "exp_month": "12", "exp_year": year,
                "cvc": "123"}  # fmt: skip
    made = ls.store.get("token:" + str(token)) if isinstance(token, str) else None
    number = getattr(getattr(made, "card", None), "_card_number", None)
    if made is None or number is None:
        raise UserError(
            400, f"No such token: '{token}'", {"code": "resource_missing", "param": "card[token]"}
        )
    return {"number": number, "exp_month": made.card.exp_month,
            "exp_year": made.card.exp_year, "cvc": "123"}  # fmt: skip


def resolve_payment_method(pm_id: Any) -> Any:
    """A test id like ``pm_card_visa`` becomes a new PaymentMethod's id, like on Stripe."""
    if isinstance(pm_id, str) and pm_id in cards.TEST_PAYMENT_METHODS:
        return PaymentMethod._api_retrieve(pm_id).id
    return pm_id


def mark_set_up(pm: Any) -> None:
    """``pm`` was authenticated for future use (a SetupIntent, or a payment with
    ``setup_future_usage``): cards that need authentication once are charged off-session."""
    pm._set_up_for_off_session = True


def set_up_for_off_session(pm: Any) -> bool:
    return getattr(pm, "_card_number", None) in cards.AUTHENTICATE_ONCE and bool(
        getattr(pm, "_set_up_for_off_session", False)
    )


def exported_payment_method(pm_id: Any) -> Any:
    """The PaymentMethod a card error names (Stripe's ``error.payment_method``), or None."""
    pm = ls.store.get("payment_method:" + str(pm_id)) if pm_id else None
    return pm._export() if pm is not None else None
