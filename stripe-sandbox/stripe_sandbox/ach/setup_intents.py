"""Bank account SetupIntents: confirmation with ``mandate_data``, microdeposit verification
(``POST /v1/setup_intents/{id}/verify_microdeposits``) and its attempts.
"""

from __future__ import annotations

import time
from typing import Any

from localstripe import resources as ls
from localstripe.errors import UserError
from localstripe.resources import (
    PaymentMethod,
    SetupIntent,
    try_convert_to_bool,
)

from stripe_sandbox import stripe_js
from stripe_sandbox.ach.bank_accounts import (
    TYPE,
    check_type_allowed,
    involves_bank,
    is_bank,
    refuse_unknown,
    validate_payment_method_data,
    verification_of,
)
from stripe_sandbox.ach.mandates import Mandate, validate_mandate_data
from stripe_sandbox.context import random_token
from stripe_sandbox.extensions.objects import emit, rebind_extra_api
from stripe_sandbox.extensions.payment_methods import resolve_payment_method
from stripe_sandbox.store import STORE

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


def patch_setup_intents() -> None:
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
        if not involves_bank(types, payment_method, payment_method_data):
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
            check_type_allowed("SetupIntent", types, pm.type)
        elif isinstance(payment_method_data, dict):
            check_type_allowed("SetupIntent", types, str(payment_method_data.get("type")))
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
        emit("setup_intent.created", obj)
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
        if not involves_bank(
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
        refuse_unknown(kw)
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
            pm = PaymentMethod._api_retrieve(resolve_payment_method(payment_method))
            check_type_allowed("SetupIntent", obj.payment_method_types, pm.type)
        elif isinstance(payment_method_data, dict):
            check_type_allowed(
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
    rebind_extra_api("/v1/setup_intents/{id}/confirm", SetupIntent._api_confirm)


def _setup_bank(intent: Any, pm: Any, mandate_data: dict[str, Any]) -> None:
    """Confirm ``intent`` with the bank account ``pm``: verified ones succeed at once."""
    state = verification_of(pm)
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
    emit("setup_intent.requires_action", intent)


def _succeed(intent: Any, pm: Any) -> None:
    """The bank account is verified: mandate, attachment to the customer, ``succeeded``."""
    state = verification_of(pm)
    state.verified = True
    mandate = Mandate(pm, intent._ach_mandate_data)
    state.mandate = mandate.id
    intent.mandate = mandate.id
    intent.status = "succeeded"
    intent.next_action = None
    intent.last_setup_error = None
    if intent.customer and pm.customer is None:
        pm.customer = intent.customer
        emit("payment_method.attached", pm)
    emit("setup_intent.succeeded", intent)


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
    refuse_unknown(kw)
    intent = SetupIntent._api_retrieve(id)
    stripe_js.check_client_secret(intent, client_secret)
    pm = (
        STORE.get("payment_method:" + str(intent.payment_method)) if intent.payment_method else None
    )
    locked_pm = getattr(intent, "_ach_locked_pm", None)
    if (pm is not None and is_bank(pm) and verification_of(pm).locked) or locked_pm is not None:
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
    state = verification_of(pm)
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
    emit("setup_intent.setup_failed", intent)
    raise UserError(
        400,
        ATTEMPTS_EXCEEDED,
        {"code": "payment_method_microdeposit_verification_attempts_exceeded"},
    )
