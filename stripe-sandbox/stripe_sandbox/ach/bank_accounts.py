"""Bank account (``us_bank_account``) PaymentMethods: Stripe's checks on the routing and account
numbers, the verification state of each account, and lists of every type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from localstripe import resources as ls
from localstripe.errors import UserError
from localstripe.resources import (
    Customer,
    PaymentMethod,
    StripeObject,
)

from stripe_sandbox.extensions.objects import rebind_extra_api
from stripe_sandbox.store import STORE

TYPE = "us_bank_account"
BANK_NAME = "STRIPE TEST BANK"
# Stripe's test routing numbers (any other is refused).
TEST_ROUTING_NUMBERS = frozenset({"110000000"})


def refuse_unknown(kw: dict[str, Any]) -> None:
    if kw:
        raise UserError(400, "Received unknown parameter: " + ", ".join(sorted(kw)))


@dataclass
class BankVerification:
    """The microdeposit verification state of one bank account PaymentMethod."""

    verified: bool = False
    failed_attempts: int = 0
    locked: bool = False
    mandate: str | None = None


def is_bank(pm: Any) -> bool:
    return getattr(pm, "type", None) == TYPE


def verification_of(pm: Any) -> BankVerification:
    state = getattr(pm, "_ach", None)
    if state is None:
        state = pm._ach = BankVerification()
    return state


def validate_bank_account(details: Any) -> dict[str, str]:
    """Stripe's checks on ``us_bank_account[...]``; the normalized fields (pure, no side effect)."""
    if not isinstance(details, dict):
        raise UserError(
            400, "Missing required param: us_bank_account.", {"param": "us_bank_account"}
        )
    if details.get("financial_connections_account"):
        raise UserError(
            400,
            "Financial Connections accounts are not supported by the sandbox; provide "
            "routing_number and account_number.",
            {"param": "us_bank_account[financial_connections_account]"},
        )
    routing = str(details.get("routing_number") or "").strip()
    account = str(details.get("account_number") or "").strip()
    holder_type = details.get("account_holder_type") or "individual"
    account_type = details.get("account_type") or "checking"
    unknown = set(details) - {
        "routing_number",
        "account_number",
        "account_holder_type",
        "account_type",
        "financial_connections_account",
    }
    if unknown:
        raise UserError(
            400,
            "Received unknown parameter: "
            + ", ".join(f"us_bank_account[{k}]" for k in sorted(unknown)),
        )
    if not routing:
        raise UserError(
            400,
            "Missing required param: us_bank_account[routing_number].",
            {"param": "us_bank_account[routing_number]"},
        )
    if not account:
        raise UserError(
            400,
            "Missing required param: us_bank_account[account_number].",
            {"param": "us_bank_account[account_number]"},
        )
    if not (routing.isdigit() and len(routing) == 9):
        raise UserError(
            400,
            "Routing number must have 9 digits",
            {"param": "us_bank_account[routing_number]", "code": "routing_number_invalid"},
        )
    if routing not in TEST_ROUTING_NUMBERS:
        raise UserError(
            400,
            f"Invalid routing number: {routing}. In test mode, use the test routing number "
            "110000000.",
            {"param": "us_bank_account[routing_number]", "code": "routing_number_invalid"},
        )
    if not (account.isdigit() and 4 <= len(account) <= 17):
        raise UserError(
            400,
            "Invalid account number: it must contain 4 to 17 digits.",
            {"param": "us_bank_account[account_number]", "code": "account_number_invalid"},
        )
    if holder_type not in ("individual", "company"):
        raise UserError(
            400,
            f"Invalid us_bank_account[account_holder_type]: must be one of individual or "
            f"company (got {holder_type}).",
            {"param": "us_bank_account[account_holder_type]"},
        )
    if account_type not in ("checking", "savings"):
        raise UserError(
            400,
            f"Invalid us_bank_account[account_type]: must be one of checking or savings "
            f"(got {account_type}).",
            {"param": "us_bank_account[account_type]"},
        )
    return {
        "routing_number": routing,
        "account_number": account,
        "account_holder_type": holder_type,
        "account_type": account_type,
    }


def _validate_billing_details(billing_details: Any) -> dict[str, Any]:
    if billing_details is not None and not isinstance(billing_details, dict):
        raise UserError(400, "Invalid billing_details.", {"param": "billing_details"})
    details = dict(billing_details or {})
    if not details.get("name"):
        raise UserError(
            400,
            "Missing required param: billing_details[name].",
            {"param": "billing_details[name]"},
        )
    return {
        "address": details.get("address")
        or {
            "city": None,
            "country": None,
            "line1": None,
            "line2": None,
            "postal_code": None,
            "state": None,
        },
        "email": details.get("email"),
        "name": details["name"],
        "phone": details.get("phone"),
    }


def validate_payment_method_data(data: Any) -> None:
    """Checks of a ``us_bank_account`` PaymentMethod's parameters, without creating it."""
    _validate_billing_details(data.get("billing_details"))
    validate_bank_account(data.get(TYPE))


def patch_payment_methods() -> None:
    prev_init = PaymentMethod.__init__

    def __init__(self: Any, type: Any = None, billing_details: Any = None, **kw: Any) -> None:
        if type != TYPE:
            prev_init(self, type=type, billing_details=billing_details, **kw)
            return
        details = validate_bank_account(kw.pop(TYPE, None))
        metadata = kw.pop("metadata", None)
        for name in ("allow_redisplay",):
            kw.pop(name, None)
        refuse_unknown(kw)
        billing = _validate_billing_details(billing_details)
        if metadata is not None and not isinstance(metadata, dict):
            raise UserError(400, "Invalid metadata.", {"param": "metadata"})
        # All exceptions must be raised before this point.
        StripeObject.__init__(self)
        number = details["account_number"]
        self.type = TYPE
        self.billing_details = billing
        self.customer = None
        self.metadata = metadata or {}
        self.allow_redisplay = "unspecified"
        self.us_bank_account = {
            "account_holder_type": details["account_holder_type"],
            "account_type": details["account_type"],
            "bank_name": BANK_NAME,
            "financial_connections_account": None,
            "fingerprint": ls.fingerprint(details["routing_number"] + number),
            "last4": number[-4:],
            "networks": {"preferred": "ach", "supported": ["ach"]},
            "routing_number": details["routing_number"],
            "status_details": {},
        }
        self._account_number = number
        self._ach = BankVerification()

    PaymentMethod.__init__ = __init__  # type: ignore[method-assign]

    prev_attach = PaymentMethod._api_attach.__func__  # type: ignore[attr-defined]

    def _api_attach(cls: Any, id: str, customer: Any = None, **kw: Any) -> Any:
        pm = cls._api_retrieve(id) if isinstance(id, str) and id.startswith("pm_") else None
        if pm is not None and is_bank(pm) and not verification_of(pm).verified:
            raise UserError(
                400,
                "PaymentMethods of type us_bank_account must be verified before they can be "
                "attached to a customer. Use a SetupIntent (verify_with_microdeposits) to "
                "collect and verify the bank account.",
                {"param": "payment_method", "code": "payment_method_unactivated"},
            )
        return prev_attach(cls, id, customer=customer, **kw)

    PaymentMethod._api_attach = classmethod(_api_attach)  # type: ignore[assignment]
    rebind_extra_api("/v1/payment_methods/{id}/attach", PaymentMethod._api_attach)

    prev_list = PaymentMethod._api_list_all.__func__  # type: ignore[attr-defined]

    def _api_list_all(
        cls: Any,
        url: Any,
        customer: Any = None,
        type: Any = None,
        limit: Any = None,
        starting_after: Any = None,
        **kw: Any,
    ) -> Any:
        # localstripe lists only cards (and needs a customer); Stripe lists every type.
        if type not in (None, TYPE) or customer is None:
            return prev_list(
                cls, url, customer=customer, type=type, limit=limit, starting_after=starting_after
            )
        refuse_unknown(kw)
        Customer._api_retrieve(customer)  # 404 if unknown
        li = StripeObject._api_list_all.__func__(  # type: ignore[attr-defined]
            cls, url, limit=limit, starting_after=starting_after
        )
        li._list = [
            pm for pm in li._list if pm.customer == customer and (type is None or pm.type == type)
        ]
        return li

    PaymentMethod._api_list_all = classmethod(_api_list_all)  # type: ignore[assignment]


def involves_bank(types: Any, payment_method: Any, payment_method_data: Any) -> bool:
    if isinstance(types, list) and TYPE in types:
        return True
    if isinstance(payment_method_data, dict) and payment_method_data.get("type") == TYPE:
        return True
    if isinstance(payment_method, str) and payment_method.startswith("pm_"):
        return is_bank(STORE.get("payment_method:" + payment_method))
    return False


def check_type_allowed(kind: str, types: list[str], pm_type: str) -> None:
    if pm_type not in types:
        raise UserError(
            400,
            f"The PaymentMethod provided ({pm_type}) is not allowed for this {kind}. Please "
            f"attach a PaymentMethod of one of the following types: {', '.join(types)}. "
            f"Alternatively, update the allowed payment_method_types for this {kind} to "
            f'include "{pm_type}".',
            {"param": "payment_method"},
        )
