"""Stripe's ``mandate`` objects for bank account PaymentMethods, and the checks on
``mandate_data``.
"""

from __future__ import annotations

import time
from typing import Any

from localstripe.errors import UserError
from localstripe.resources import (
    StripeObject,
)

from stripe_sandbox import stripe_js
from stripe_sandbox.ach.bank_accounts import TYPE


class Mandate(StripeObject):
    """Stripe's ``mandate`` for a bank account PaymentMethod (read-only)."""

    object = "mandate"
    _id_prefix = "mandate_"

    def __init__(self, payment_method: Any, mandate_data: dict[str, Any]) -> None:
        super().__init__()
        acceptance = mandate_data["customer_acceptance"]
        self.customer_acceptance = {
            "accepted_at": int(acceptance.get("accepted_at") or time.time()),
            "type": acceptance["type"],
            acceptance["type"]: dict(acceptance.get(acceptance["type"]) or {}),
        }
        self.multi_use = {}
        self.payment_method = payment_method.id
        self.payment_method_details = {"type": TYPE, TYPE: {"collection_method": "paper"}}
        self.status = "active"
        self.type = "multi_use"

    @classmethod
    def _api_get(cls, id: str, **kw: Any) -> Any:
        kw.pop("expand", None)
        return cls._api_retrieve(id)


def validate_mandate_data(mandate_data: Any) -> None:
    """Stripe's checks on ``mandate_data[customer_acceptance]`` (secret-key calls)."""
    if not isinstance(mandate_data, dict) or not isinstance(
        mandate_data.get("customer_acceptance"), dict
    ):
        raise UserError(
            400,
            "Missing required param: mandate_data[customer_acceptance].",
            {"param": "mandate_data[customer_acceptance]"},
        )
    acceptance = mandate_data["customer_acceptance"]
    kind = acceptance.get("type")
    if kind not in ("online", "offline"):
        raise UserError(
            400,
            "Invalid mandate_data[customer_acceptance][type]: must be one of online or offline.",
            {"param": "mandate_data[customer_acceptance][type]"},
        )
    if kind == "online" and not stripe_js._is_publishable():
        online = acceptance.get("online")
        for name in ("ip_address", "user_agent"):
            if not isinstance(online, dict) or not online.get(name):
                raise UserError(
                    400,
                    f"Missing required param: mandate_data[customer_acceptance][online][{name}].",
                    {"param": f"mandate_data[customer_acceptance][online][{name}]"},
                )
