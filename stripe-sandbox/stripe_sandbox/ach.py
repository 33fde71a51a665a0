"""ACH Direct Debit (``us_bank_account``) as Stripe does it, on top of localstripe.

Applied once by ``apply()`` (after ``extensions`` and ``stripe_js``, whose patches it wraps);
``add_routes`` mounts the control endpoints. Facts from Stripe's testing documentation (see
shared/reference/stripe-test-data.md, "US bank accounts").

- ``POST /v1/payment_methods`` ``type=us_bank_account``: routing number (9 digits, a test one),
  account number (4-17 digits), holder type, ``billing_details[name]`` required. Unverified.
- SetupIntents: ``payment_method_types[]=us_bank_account``, ``payment_method_options
  [us_bank_account][verification_method]``, ``payment_method``/``payment_method_data``,
  ``mandate_data`` and ``confirm=true`` on create (or ``POST /v1/setup_intents/{id}/confirm``).
  An unverified account answers ``requires_action`` with ``verify_with_microdeposits``; an already
  verified one succeeds at once.
- ``POST /v1/setup_intents/{id}/verify_microdeposits`` ``amounts[]=32&amounts[]=45`` or
  ``descriptor_code=SM11AA``: the SetupIntent succeeds, a mandate is created and the
  PaymentMethod is attached to the customer. Wrong values count as attempts; after
  ``MAX_ATTEMPTS`` the PaymentMethod is locked and the SetupIntent goes back to
  ``requires_payment_method`` with ``last_setup_error``.
- ``GET /v1/mandates/{id}``.
- PaymentIntents with a verified ``us_bank_account`` PaymentMethod (``usd`` only, with
  ``mandate_data``, ``mandate`` or ``off_session=true``) go to ``processing`` with a pending
  charge (``charge.pending``, ``payment_intent.processing``) and stay there until the control API
  settles them.
- Control API: ``POST /_sandbox/ach/settle`` ``{"payment_intent", "failure_code"?}`` and
  ``POST /_sandbox/ach/settle_all`` ``{"secret_key" | "account"}``. Success emits
  ``charge.succeeded`` and ``payment_intent.succeeded``; the failure test accounts (or a forced
  ``failure_code``) emit ``charge.failed`` and ``payment_intent.payment_failed`` and leave the
  intent in ``requires_payment_method`` with ``last_payment_error``.
"""

from __future__ import annotations

import contextvars
import re
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from localstripe import resources as ls
from localstripe.errors import UserError
from localstripe.resources import (
    BalanceTransaction,
    Charge,
    Customer,
    PaymentIntent,
    PaymentMethod,
    SetupIntent,
    StripeObject,
    try_convert_to_bool,
)

from stripe_sandbox import auth, context, extensions, stripe_js
from stripe_sandbox.cards import Decline
from stripe_sandbox.context import random_token
from stripe_sandbox.store import STORE

TYPE = "us_bank_account"
BANK_NAME = "STRIPE TEST BANK"
# Stripe's test routing numbers (any other is refused).
TEST_ROUTING_NUMBERS = frozenset({"110000000"})
MICRODEPOSIT_AMOUNTS = (32, 45)
DESCRIPTOR_CODE = "SM11AA"
MAX_ATTEMPTS = 10
# Days until the microdeposits "arrive" (next_action.verify_with_microdeposits.arrival_date).
ARRIVAL_DAYS = 2

AMOUNTS_MISMATCH = (
    "The amounts provided do not match the amounts that were sent to the bank account. "
    "You have {n} verification attempts remaining."
)
DESCRIPTOR_MISMATCH = (
    "The verification code provided does not match the code that was sent to the bank "
    "account. You have {n} verification attempts remaining."
)
ATTEMPTS_EXCEEDED = "You have exceeded the number of allowed verification attempts."


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

# mandate_data of the PaymentIntent call being served (read when its charge is created).
_mandate_data: contextvars.ContextVar[Any] = contextvars.ContextVar(
    "ach_mandate_data", default=None
)

_applied = False


def apply() -> None:
    """Apply the patches (idempotent; after ``extensions.apply`` and ``stripe_js.apply``)."""
    global _applied
    if _applied:
        return
    _applied = True
    _patch_payment_methods()
    _patch_setup_intents()
    _patch_payment_intents()
    _patch_charges()
    ls.extra_apis.append(
        ("POST", "/v1/setup_intents/{id}/verify_microdeposits", verify_microdeposits)
    )
    ls.extra_apis.append(("GET", "/v1/mandates/{id}", Mandate._api_get))
    # Stripe.js's verifyMicrodepositsForSetup calls it with the publishable key (and the
    # SetupIntent's client_secret, checked below).
    auth._PUBLISHABLE_OK.append(
        ("POST", re.compile(r"^/v1/setup_intents/\w+/verify_microdeposits$"))
    )


def _emit(event_type: str, obj: Any) -> None:
    extensions._emit(event_type, obj)


def _unknown(kw: dict[str, Any]) -> None:
    if kw:
        raise UserError(400, "Received unknown parameter: " + ", ".join(sorted(kw)))


# PaymentMethods -----------------------------------------------------------------------------
@dataclass
class _Verification:
    """The microdeposit verification state of one bank account PaymentMethod."""

    verified: bool = False
    failed_attempts: int = 0
    locked: bool = False
    mandate: str | None = None


def is_bank(pm: Any) -> bool:
    return getattr(pm, "type", None) == TYPE


def _state(pm: Any) -> _Verification:
    state = getattr(pm, "_ach", None)
    if state is None:
        state = pm._ach = _Verification()
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


def _patch_payment_methods() -> None:
    prev_init = PaymentMethod.__init__

    def __init__(self: Any, type: Any = None, billing_details: Any = None, **kw: Any) -> None:
        if type != TYPE:
            prev_init(self, type=type, billing_details=billing_details, **kw)
            return
        details = validate_bank_account(kw.pop(TYPE, None))
        metadata = kw.pop("metadata", None)
        for name in ("allow_redisplay",):
            kw.pop(name, None)
        _unknown(kw)
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
        self._ach = _Verification()

    PaymentMethod.__init__ = __init__  # type: ignore[method-assign]

    prev_attach = PaymentMethod._api_attach.__func__  # type: ignore[attr-defined]

    def _api_attach(cls: Any, id: str, customer: Any = None, **kw: Any) -> Any:
        pm = cls._api_retrieve(id) if isinstance(id, str) and id.startswith("pm_") else None
        if pm is not None and is_bank(pm) and not _state(pm).verified:
            raise UserError(
                400,
                "PaymentMethods of type us_bank_account must be verified before they can be "
                "attached to a customer. Use a SetupIntent (verify_with_microdeposits) to "
                "collect and verify the bank account.",
                {"param": "payment_method", "code": "payment_method_unactivated"},
            )
        return prev_attach(cls, id, customer=customer, **kw)

    PaymentMethod._api_attach = classmethod(_api_attach)  # type: ignore[assignment]
    extensions._rebind_extra_api("/v1/payment_methods/{id}/attach", PaymentMethod._api_attach)

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
        _unknown(kw)
        Customer._api_retrieve(customer)  # 404 if unknown
        li = StripeObject._api_list_all.__func__(  # type: ignore[attr-defined]
            cls, url, limit=limit, starting_after=starting_after
        )
        li._list = [
            pm for pm in li._list if pm.customer == customer and (type is None or pm.type == type)
        ]
        return li

    PaymentMethod._api_list_all = classmethod(_api_list_all)  # type: ignore[assignment]


# Mandates -----------------------------------------------------------------------------------
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


# SetupIntents -------------------------------------------------------------------------------
def _verification_method(options: Any) -> str:
    if options is None:
        return "automatic"
    if not isinstance(options, dict) or not isinstance(options.get(TYPE, {}), dict):
        raise UserError(400, "Invalid payment_method_options.", {"param": "payment_method_options"})
    method = (options.get(TYPE) or {}).get("verification_method") or "automatic"
    if method not in ("automatic", "instant", "microdeposits"):
        raise UserError(
            400,
            "Invalid payment_method_options[us_bank_account][verification_method]: must be one "
            "of automatic, instant or microdeposits.",
            {"param": "payment_method_options[us_bank_account][verification_method]"},
        )
    return method


def _ach_options(options: Any) -> dict[str, Any]:
    return {
        TYPE: {
            "mandate_options": {},
            "verification_method": _verification_method(options),
        }
    }


def _involves_bank(types: Any, payment_method: Any, payment_method_data: Any) -> bool:
    if isinstance(types, list) and TYPE in types:
        return True
    if isinstance(payment_method_data, dict) and payment_method_data.get("type") == TYPE:
        return True
    if isinstance(payment_method, str) and payment_method.startswith("pm_"):
        return is_bank(STORE.get("payment_method:" + payment_method))
    return False


def _check_type_allowed(kind: str, types: list[str], pm_type: str) -> None:
    if pm_type not in types:
        raise UserError(
            400,
            f"The PaymentMethod provided ({pm_type}) is not allowed for this {kind}. Please "
            f"attach a PaymentMethod of one of the following types: {', '.join(types)}. "
            f"Alternatively, update the allowed payment_method_types for this {kind} to "
            f'include "{pm_type}".',
            {"param": "payment_method"},
        )


def _patch_setup_intents() -> None:
    prev_init = SetupIntent.__init__

    def __init__(
        self: Any,
        *args: Any,
        payment_method_types: Any = None,
        payment_method_options: Any = None,
        description: Any = None,
        **kw: Any,
    ) -> None:
        types = payment_method_types
        bank = isinstance(types, list) and TYPE in types
        if not bank:
            if payment_method_options is not None:
                kw["payment_method_options"] = payment_method_options
            if description is not None:
                kw["description"] = description
            prev_init(self, *args, payment_method_types=types, **kw)
            return
        options = _ach_options(payment_method_options)
        # localstripe knows card, sepa_debit and ideal: let it check the others.
        others = [t for t in types if t != TYPE] or ["card"]
        prev_init(self, *args, payment_method_types=others, **kw)
        self.payment_method_types = list(types)
        self.payment_method_options = options
        self.description = description
        self.mandate = None

    SetupIntent.__init__ = __init__  # type: ignore[method-assign]

    prev_create = SetupIntent._api_create.__func__  # type: ignore[attr-defined]

    def _api_create(
        cls: Any,
        confirm: Any = None,
        payment_method: Any = None,
        payment_method_data: Any = None,
        mandate_data: Any = None,
        return_url: Any = None,
        **data: Any,
    ) -> Any:
        # localstripe takes none of confirm/payment_method/payment_method_data/mandate_data on
        # create; Stripe does. Only bank account SetupIntents take this path.
        types = data.get("payment_method_types")
        if not _involves_bank(types, payment_method, payment_method_data):
            extra = {
                "confirm": confirm,
                "payment_method": payment_method,
                "payment_method_data": payment_method_data,
                "mandate_data": mandate_data,
                "return_url": return_url,
            }
            return prev_create(cls, **data, **{k: v for k, v in extra.items() if v is not None})
        if types is None:
            data["payment_method_types"] = types = [TYPE]
        confirm = try_convert_to_bool(confirm) is True
        pm = None
        if payment_method is not None:
            pm = PaymentMethod._api_retrieve(payment_method)
            _check_type_allowed("SetupIntent", types, pm.type)
        elif isinstance(payment_method_data, dict):
            _check_type_allowed("SetupIntent", types, str(payment_method_data.get("type")))
            validate_payment_method_data(payment_method_data)
        if confirm:
            if pm is None and payment_method_data is None:
                raise UserError(
                    400,
                    "You cannot confirm this SetupIntent because it's missing a payment method.",
                    {"code": "setup_intent_unexpected_state"},
                )
            validate_mandate_data(mandate_data)
        _verification_method(data.get("payment_method_options"))
        obj = prev_create(cls, **data)
        _emit("setup_intent.created", obj)
        if pm is None and isinstance(payment_method_data, dict):
            pm = PaymentMethod(**payment_method_data)
        if pm is not None:
            obj.payment_method = pm.id
            obj.status = "requires_confirmation"
        if confirm:
            _setup_bank(obj, pm, mandate_data)
        return obj

    SetupIntent._api_create = classmethod(_api_create)  # type: ignore[assignment]

    prev_confirm = SetupIntent._api_confirm.__func__  # type: ignore[attr-defined]

    def _api_confirm(
        cls: Any,
        id: str,
        client_secret: Any = None,
        payment_method: Any = None,
        payment_method_data: Any = None,
        mandate_data: Any = None,
        payment_method_options: Any = None,
        **kw: Any,
    ) -> Any:
        obj = cls._api_retrieve(id)
        current = obj.payment_method if payment_method is None and not payment_method_data else None
        if not _involves_bank(
            obj.payment_method_types, payment_method or current, payment_method_data
        ):
            # Stripe accepts mandate_data for any type.
            if payment_method_options is not None:
                kw["payment_method_options"] = payment_method_options
            return prev_confirm(
                cls,
                id,
                client_secret=client_secret,
                payment_method=payment_method,
                payment_method_data=payment_method_data,
                **kw,
            )
        for name in stripe_js._STRIPE_JS_PARAMS + ("return_url", "expand"):
            kw.pop(name, None)
        _unknown(kw)
        stripe_js.check_client_secret(obj, client_secret)
        if obj.status not in ("requires_payment_method", "requires_confirmation"):
            raise UserError(
                400,
                f"You cannot confirm this SetupIntent because it has a status of {obj.status}.",
                {"code": "setup_intent_unexpected_state"},
            )
        if payment_method_options is not None:
            obj.payment_method_options = _ach_options(payment_method_options)
        if payment_method is not None:
            pm = PaymentMethod._api_retrieve(extensions.resolve_payment_method(payment_method))
            _check_type_allowed("SetupIntent", obj.payment_method_types, pm.type)
        elif isinstance(payment_method_data, dict):
            _check_type_allowed(
                "SetupIntent", obj.payment_method_types, str(payment_method_data.get("type"))
            )
            validate_payment_method_data(payment_method_data)
            pm = None
        elif current:
            pm = PaymentMethod._api_retrieve(current)
        else:
            raise UserError(
                400,
                "You cannot confirm this SetupIntent because it's missing a payment method.",
                {"code": "setup_intent_unexpected_state"},
            )
        if pm is not None and not is_bank(pm):
            return prev_confirm(cls, id, client_secret=client_secret, payment_method=pm.id, **kw)
        validate_mandate_data(mandate_data)
        if pm is None:
            pm = PaymentMethod(**payment_method_data)
        _setup_bank(obj, pm, mandate_data)
        return obj

    SetupIntent._api_confirm = classmethod(_api_confirm)  # type: ignore[assignment]
    extensions._rebind_extra_api("/v1/setup_intents/{id}/confirm", SetupIntent._api_confirm)


def _setup_bank(intent: Any, pm: Any, mandate_data: dict[str, Any]) -> None:
    """Confirm ``intent`` with the bank account ``pm``: verified ones succeed at once."""
    state = _state(pm)
    if state.locked:
        raise UserError(
            400,
            "This bank account can no longer be verified: " + ATTEMPTS_EXCEEDED,
            {"code": "payment_method_microdeposit_verification_attempts_exceeded"},
        )
    if pm.customer is not None and intent.customer and pm.customer != intent.customer:
        raise UserError(
            400,
            "The provided PaymentMethod is attached to another customer.",
            {"param": "payment_method"},
        )
    options = getattr(intent, "payment_method_options", None) or {}
    method = (options.get(TYPE) or {}).get("verification_method", "automatic")
    if method == "instant" and not state.verified:
        raise UserError(
            400,
            "This bank account cannot be verified instantly: instant verification needs a "
            "Financial Connections account. Use verification_method microdeposits or automatic.",
            {"param": "payment_method_options[us_bank_account][verification_method]"},
        )
    intent.payment_method = pm.id
    intent.last_setup_error = None
    intent._ach_mandate_data = mandate_data
    if state.verified:
        _succeed(intent, pm)
        return
    intent.status = "requires_action"
    arrival = int(time.time()) + ARRIVAL_DAYS * 86400
    intent.next_action = {
        "type": "verify_with_microdeposits",
        "verify_with_microdeposits": {
            "arrival_date": arrival,
            "hosted_verification_url": "https://payments.stripe.com/microdeposit/sacs_test_"
            + random_token(24),
            "microdeposit_type": "amounts",
        },
    }
    _emit("setup_intent.requires_action", intent)


def _succeed(intent: Any, pm: Any) -> None:
    """The bank account is verified: mandate, attachment to the customer, ``succeeded``."""
    state = _state(pm)
    state.verified = True
    mandate = Mandate(pm, intent._ach_mandate_data)
    state.mandate = mandate.id
    intent.mandate = mandate.id
    intent.status = "succeeded"
    intent.next_action = None
    intent.last_setup_error = None
    if intent.customer and pm.customer is None:
        pm.customer = intent.customer
        _emit("payment_method.attached", pm)
    _emit("setup_intent.succeeded", intent)


def _amounts(value: Any) -> list[int] | None:
    if isinstance(value, dict):  # amounts[0]=..&amounts[1]=..
        value = [value[k] for k in sorted(value, key=lambda k: int(k) if k.isdigit() else 0)]
    if not isinstance(value, list):
        return None
    out = []
    for item in value:
        number = ls.try_convert_to_int(item)
        if not isinstance(number, int):
            return None
        out.append(number)
    return out


def verify_microdeposits(
    id: str,
    amounts: Any = None,
    descriptor_code: Any = None,
    client_secret: Any = None,
    **kw: Any,
) -> Any:
    """``POST /v1/setup_intents/{id}/verify_microdeposits``."""
    for name in stripe_js._STRIPE_JS_PARAMS:
        kw.pop(name, None)
    _unknown(kw)
    intent = SetupIntent._api_retrieve(id)
    stripe_js.check_client_secret(intent, client_secret)
    pm = (
        STORE.get("payment_method:" + str(intent.payment_method)) if intent.payment_method else None
    )
    locked_pm = getattr(intent, "_ach_locked_pm", None)
    if (pm is not None and is_bank(pm) and _state(pm).locked) or locked_pm is not None:
        raise UserError(
            400,
            ATTEMPTS_EXCEEDED,
            {"code": "payment_method_microdeposit_verification_attempts_exceeded"},
        )
    next_action = intent.next_action or {}
    if (
        intent.status != "requires_action"
        or next_action.get("type") != "verify_with_microdeposits"
        or pm is None
    ):
        raise UserError(
            400,
            f"This SetupIntent has a status of {intent.status}; it does not require "
            "microdeposit verification.",
            {"code": "setup_intent_unexpected_state"},
        )
    if (amounts is None) == (descriptor_code is None):
        raise UserError(
            400,
            "You must provide either amounts or descriptor_code (not both).",
            {"param": "amounts"},
        )
    state = _state(pm)
    if amounts is not None:
        values = _amounts(amounts)
        if values is None or len(values) != 2 or not all(0 < v < 100 for v in values):
            raise UserError(
                400,
                "Invalid amounts: provide exactly two amounts in cents, each between 1 and 99.",
                {
                    "param": "amounts",
                    "code": "payment_method_microdeposit_verification_amounts_invalid",
                },
            )
        ok = tuple(values) == MICRODEPOSIT_AMOUNTS
        code, message = (
            "payment_method_microdeposit_verification_amounts_mismatch",
            AMOUNTS_MISMATCH,
        )
    else:
        ok = str(descriptor_code).strip().upper() == DESCRIPTOR_CODE
        code = "payment_method_microdeposit_verification_descriptor_code_mismatch"
        message = DESCRIPTOR_MISMATCH
    if ok:
        _succeed(intent, pm)
        return intent
    state.failed_attempts += 1
    remaining = MAX_ATTEMPTS - state.failed_attempts
    if remaining > 0:
        raise UserError(400, message.format(n=remaining), {"code": code})
    # Locked: the SetupIntent needs another payment method.
    state.locked = True
    intent._ach_locked_pm = pm.id
    intent.status = "requires_payment_method"
    intent.payment_method = None
    intent.next_action = None
    intent.last_setup_error = {
        "type": "invalid_request_error",
        "code": "payment_method_microdeposit_verification_attempts_exceeded",
        "message": ATTEMPTS_EXCEEDED,
        "payment_method": pm._export(),
    }
    _emit("setup_intent.setup_failed", intent)
    raise UserError(
        400,
        ATTEMPTS_EXCEEDED,
        {"code": "payment_method_microdeposit_verification_attempts_exceeded"},
    )


# PaymentIntents -----------------------------------------------------------------------------
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
        _check_type_allowed("PaymentIntent", types, pm.type)
    state = _state(pm)
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
    elif not extensions._is_off_session(off_session):
        raise UserError(
            400,
            "A mandate is required to confirm a us_bank_account payment: pass mandate_data "
            "(customer acceptance), mandate, or off_session=true with a bank account verified "
            "through a SetupIntent.",
            {"param": "mandate_data"},
        )


def _patch_payment_intents() -> None:
    prev_create = PaymentIntent._api_create.__func__  # type: ignore[attr-defined]

    def _api_create(cls: Any, confirm: Any = None, off_session: Any = None, **data: Any) -> Any:
        # Test ids (pm_card_visa) are cards: no need to resolve them (that creates one).
        pm_id = data.get("payment_method")
        if not _involves_bank(data.get("payment_method_types"), pm_id, None):
            return prev_create(cls, confirm=confirm, off_session=off_session, **data)
        mandate_data = data.pop("mandate_data", None)
        mandate = data.pop("mandate", None)
        pm_id = extensions.resolve_payment_method(pm_id)
        data["payment_method"] = pm_id
        pm = PaymentMethod._api_retrieve(pm_id) if isinstance(pm_id, str) else None
        if pm is not None and not is_bank(pm):
            pm = None  # a card: localstripe's checks (the types check is below)
            _check_type_allowed(
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
        bank = _involves_bank(obj.payment_method_types, pm_id, None)
        if not bank:
            if mandate_data is not None:
                kw["mandate_data"] = mandate_data
            if mandate is not None:
                kw["mandate"] = mandate
            return prev_confirm(
                cls, id, payment_method=payment_method, off_session=off_session, **kw
            )
        stripe_js.check_client_secret(obj, kw.get("client_secret"))
        pm_id = extensions.resolve_payment_method(pm_id)
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
    extensions._rebind_extra_api("/v1/payment_intents/{id}/confirm", PaymentIntent._api_confirm)

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
    state = _state(pm)
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
    _emit("charge.pending", charge)
    _emit("payment_intent.processing", intent)


def _patch_charges() -> None:
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


# Settlement (control API) -------------------------------------------------------------------
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
        _emit("charge.succeeded", charge)
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
    _emit("charge.failed", charge)
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
