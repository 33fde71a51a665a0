"""PaymentIntents as on Stripe: the fields localstripe drops, off-session confirmation,
3-D Secure and ``authentication_required``, card errors, ``payment_intent.*`` events,
``latest_charge`` as an id, and the PaymentMethod saved with ``setup_future_usage``.
"""

from __future__ import annotations

import time
from typing import Any

from localstripe import resources as ls
from localstripe.errors import UserError
from localstripe.resources import (
    Charge,
    Invoice,
    PaymentIntent,
    PaymentMethod,
    try_convert_to_bool,
)

from stripe_sandbox import cards
from stripe_sandbox.cards import Decline
from stripe_sandbox.errors import card_error
from stripe_sandbox.extensions.charges import check_amount, decline_of
from stripe_sandbox.extensions.objects import emit, rebind_extra_api
from stripe_sandbox.extensions.payment_methods import (
    exported_payment_method,
    mark_set_up,
    resolve_payment_method,
    set_up_for_off_session,
)

# PaymentIntent fields localstripe does not know: stored and returned as given.
_PI_FIELDS = (
    "description",
    "receipt_email",
    "statement_descriptor",
    "statement_descriptor_suffix",
    "automatic_payment_methods",
    "setup_future_usage",
    "shipping",
    "transfer_group",
)
# Accepted (Stripe takes them) but not stored.
_PI_IGNORED = ("return_url", "use_stripe_sdk", "mandate_data", "error_on_requires_action")


def _pi_extra(data: dict[str, Any]) -> dict[str, Any]:
    """Pop and validate the fields of ``_PI_FIELDS`` from create/confirm parameters."""
    for name in _PI_IGNORED:
        data.pop(name, None)
    extra = {k: data.pop(k) for k in list(data) if k in _PI_FIELDS}
    descriptor = extra.get("statement_descriptor")
    if descriptor is not None and (not isinstance(descriptor, str) or len(descriptor) > 22):
        raise UserError(
            400,
            "The statement descriptor must be at most 22 characters.",
            {"param": "statement_descriptor"},
        )
    if extra.get("setup_future_usage") not in (None, "", "on_session", "off_session"):
        raise UserError(400, "Invalid setup_future_usage.", {"param": "setup_future_usage"})
    apm = extra.get("automatic_payment_methods")
    if apm is not None:
        if not isinstance(apm, dict) or "enabled" not in apm:
            raise UserError(
                400, "Missing required param: enabled.", {"param": "automatic_payment_methods"}
            )
        extra["automatic_payment_methods"] = {
            "enabled": try_convert_to_bool(apm["enabled"]) is True,
            "allow_redirects": apm.get("allow_redirects", "always"),
        }
    return extra


def patch_payment_intents() -> None:
    orig_init = PaymentIntent.__init__

    def __init__(self: Any, payment_method: Any = None, **data: Any) -> None:
        extra = _pi_extra(data)
        types = data.get("payment_method_types")
        options = data.get("payment_method_options")
        orig_init(self, payment_method=resolve_payment_method(payment_method), **data)
        for name in _PI_FIELDS:
            setattr(self, name, extra.get(name))
        # localstripe accepts but drops these.
        self.payment_method_types = types or ["card"]
        self.payment_method_options = options or {}
        self.confirmation_method = "automatic"
        self.canceled_at = None
        self.cancellation_reason = None
        self._off_session = False

    PaymentIntent.__init__ = __init__  # type: ignore[method-assign]

    def _api_create(cls: Any, confirm: Any = None, off_session: Any = None, **data: Any) -> Any:
        # Replaces localstripe's to remember off_session for _confirm and emit .created.
        confirm = try_convert_to_bool(confirm)
        if off_session is not None and confirm is not True:
            raise UserError(
                400,
                "You can only pass `off_session` when `confirm` is true.",
                {"param": "off_session"},
            )
        check_amount(data.get("amount"), data.get("currency"))
        pm_data = data.pop("payment_method_data", None)
        if isinstance(pm_data, dict) and data.get("payment_method") is None:
            data["payment_method"] = PaymentMethod(**pm_data).id  # card[token]=tok_visa too
        obj = cls(**data)
        obj._off_session = is_off_session(off_session)
        emit("payment_intent.created", obj)
        if confirm:
            obj._confirm(on_failure_now=obj._report_failure)
        return obj

    PaymentIntent._api_create = classmethod(_api_create)  # type: ignore[assignment]

    def _api_confirm(
        cls: Any, id: str, payment_method: Any = None, off_session: Any = None, **kw: Any
    ) -> Any:
        # localstripe refuses payment_method (500) and off_session here; Stripe takes both.
        for name in ("client_secret", "key", "payment_method_options", "expand"):
            kw.pop(name, None)
        extra = _pi_extra(kw)
        if kw:
            raise UserError(400, "Received unknown parameter: " + ", ".join(kw))
        obj = cls._api_retrieve(id)
        if payment_method is not None and obj.status in (
            "requires_payment_method",
            "requires_confirmation",
        ):
            obj.payment_method = resolve_payment_method(payment_method)
            PaymentMethod._api_retrieve(obj.payment_method)  # 404 if unknown
            obj.latest_charge = None  # a new attempt after a failed one
            obj._authentication_failed = False
        for name, value in extra.items():
            setattr(obj, name, value)
        if obj.status != "requires_confirmation":
            raise UserError(
                400,
                f"You cannot confirm this PaymentIntent because it has a status of {obj.status}.",
                {"code": "payment_intent_unexpected_state"},
            )
        check_amount(obj.amount, obj.currency)
        if off_session is not None:
            obj._off_session = is_off_session(off_session)
        obj._confirm(on_failure_now=obj._report_failure)
        return obj

    PaymentIntent._api_confirm = classmethod(_api_confirm)  # type: ignore[assignment]
    rebind_extra_api("/v1/payment_intents/{id}/confirm", PaymentIntent._api_confirm)

    def _confirm(self: Any, on_failure_now: Any) -> None:
        # localstripe asks for 3-D Secure even off-session; Stripe then fails the payment with
        # authentication_required unless the card was set up for off-session use.
        self._authentication_failed = False
        pm = PaymentMethod._api_retrieve(self.payment_method)
        if pm._requires_authentication():
            if not getattr(self, "_off_session", False):
                self.next_action = {
                    "type": "use_stripe_sdk",
                    "use_stripe_sdk": {"type": "three_d_secure_redirect", "stripe_js": ""},
                }
                emit("payment_intent.requires_action", self)
                return
            if not set_up_for_off_session(pm):
                self._create_charge(on_failure_now, decline=cards.AUTHENTICATION_REQUIRED)
                return
        self._create_charge(on_failure_now=on_failure_now)

    PaymentIntent._confirm = _confirm  # type: ignore[method-assign]

    def _create_charge(self: Any, on_failure_now: Any, decline: Decline | None = None) -> None:
        # Replaces localstripe's: the charge inherits the PaymentIntent's description,
        # metadata, statement descriptor and receipt email (as on Stripe), and a forced decline.
        if self.status != "requires_confirmation":
            raise UserError(400, "Bad request")
        charge = Charge(
            amount=self.amount,
            currency=self.currency,
            customer=self.customer,
            source=self.payment_method,
            capture=(self.capture_method != "manual"),
            description=getattr(self, "description", None),
            metadata=dict(self.metadata or {}),
            statement_descriptor=getattr(self, "statement_descriptor", None),
        )
        charge.payment_intent = self.id
        charge.receipt_email = getattr(self, "receipt_email", None)
        if decline is not None:
            charge._authorized = False
            charge._decline = decline
        self.latest_charge = charge
        charge._initialize_charge(self._on_success, on_failure_now, self._report_async_failure)

    PaymentIntent._create_charge = _create_charge  # type: ignore[method-assign]

    def _report_failure(self: Any) -> None:
        # As localstripe's, but the 402 carries Stripe's card_error details.
        emit("payment_intent.payment_failed", self)
        if self.invoice:
            Invoice._api_retrieve(self.invoice)._on_payment_failure_now()
        charge = self.latest_charge
        raise card_error(
            charge.failure_message,
            code=charge.failure_code,
            decline_code=decline_of(charge).decline_code,
            charge=charge.id,
            doc_url=f"https://stripe.com/docs/error-codes/{charge.failure_code.replace('_', '-')}",
            payment_intent=self._export(),
            payment_method=exported_payment_method(charge.payment_method),
        )

    PaymentIntent._report_failure = _report_failure  # type: ignore[method-assign]

    orig_on_success = PaymentIntent._on_success

    def _on_success(self: Any) -> None:
        # With setup_future_usage and a customer, Stripe attaches the PaymentMethod to the
        # customer once the payment succeeds (before payment_intent.succeeded is sent).
        _save_payment_method(self)
        orig_on_success(self)

    PaymentIntent._on_success = _on_success  # type: ignore[method-assign]

    orig_lpe = PaymentIntent.last_payment_error.fget  # type: ignore[attr-defined]

    def last_payment_error(self: Any) -> Any:
        error = orig_lpe(self)
        if error and error.get("charge"):
            error.update(
                type="card_error", decline_code=decline_of(self.latest_charge).decline_code
            )
        elif error:
            error["type"] = "invalid_request_error"
            if error.get("code") == "payment_intent_authentication_failure":
                error["message"] = AUTHENTICATION_FAILED_MESSAGE  # Stripe's wording
        return error

    PaymentIntent.last_payment_error = property(last_payment_error)  # type: ignore[assignment]

    orig_cancel = PaymentIntent._api_cancel.__func__  # type: ignore[attr-defined]

    def _api_cancel(cls: Any, id: str, cancellation_reason: Any = None, **kw: Any) -> Any:
        # Stripe takes cancellation_reason and emits payment_intent.canceled.
        obj = orig_cancel(cls, id, **kw)
        obj.cancellation_reason = cancellation_reason
        obj.canceled_at = int(time.time())
        emit("payment_intent.canceled", obj)
        return obj

    PaymentIntent._api_cancel = classmethod(_api_cancel)  # type: ignore[assignment]
    rebind_extra_api("/v1/payment_intents/{id}/cancel", PaymentIntent._api_cancel)

    orig_export = PaymentIntent._export

    def _export(self: Any, expand: Any = None) -> dict[str, Any]:
        # Stripe returns latest_charge as an id unless expanded; localstripe nests the object.
        expand = [] if expand is None else expand
        if not isinstance(expand, list):
            return orig_export(self, expand)  # localstripe answers the 400
        mine = [p for p in expand if p.split(".", 1)[0] == "latest_charge"]
        obj = orig_export(self, [p for p in expand if p not in mine])
        obj.pop("charges", None)  # removed from the API in 2022-11-15
        charge = self.latest_charge
        if charge is not None:
            sub = [p.split(".", 1)[1] for p in mine if "." in p]
            obj["latest_charge"] = charge._export(expand=sub) if mine else charge.id
        paid = charge is not None and charge.status == "succeeded"
        obj["amount_received"] = charge.amount if paid and charge.captured else 0
        obj["amount_capturable"] = charge.amount if obj["status"] == "requires_capture" else 0
        return obj

    PaymentIntent._export = _export  # type: ignore[method-assign]


AUTHENTICATION_FAILED_MESSAGE = (
    "We are unable to authenticate your payment method. Please choose a different payment "
    "method and try again."
)


def _save_payment_method(intent: Any) -> None:
    """Attach a succeeded intent's PaymentMethod to its customer if ``setup_future_usage``."""
    if getattr(intent, "setup_future_usage", None) not in ("on_session", "off_session"):
        return
    if not isinstance(intent.payment_method, str):
        return
    pm = ls.store.get("payment_method:" + intent.payment_method)
    if pm is None:
        return
    mark_set_up(pm)
    if intent.customer and getattr(pm, "customer", None) is None:
        pm.customer = intent.customer


def is_off_session(value: Any) -> bool:
    """Stripe's off_session is true/false or ``one_off``/``recurring``."""
    value = try_convert_to_bool(value)
    return value is True or value in ("one_off", "recurring")
