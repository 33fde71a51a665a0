"""Small patches to localstripe's resource classes, applied once by ``apply()``.

Each patch says why. They make localstripe behave like today's Stripe where the portal relies
on it: per-account storage, events and webhook delivery, PaymentIntent fields, off-session
confirmation, decline codes, test PaymentMethod ids, ``latest_charge`` as an id, ``charge.*``
events, newest-first lists, PaymentIntent/Charge list filters (customer, payment_intent,
created), deleted-customer stubs and live-mode objects for live keys, the PaymentMethod of a
succeeded intent with ``setup_future_usage`` attached to its customer,
``payment_intent.requires_action`` events, Stripe's amount bounds on PaymentIntents and charges
(``amounts``: minimums, also after conversion at fixed rates, eight digits, three-decimal
amounts), refunds of what remains, test tokens (``tok_visa``), card errors naming their
PaymentMethod, and 4000002500003155 charged off-session only once set up. The Stripe.js side
(client secrets, 3-D Secure outcomes, SetupIntents) is patched by ``stripe_js``.
"""

from __future__ import annotations

import datetime
import time
from typing import Any

from localstripe import resources as ls
from localstripe.errors import UserError
from localstripe.resources import (
    Charge,
    Customer,
    Event,
    Invoice,
    PaymentIntent,
    PaymentMethod,
    Refund,
    StripeObject,
    try_convert_to_bool,
)

from stripe_sandbox import amounts, cards, context, webhooks
from stripe_sandbox.cards import Decline
from stripe_sandbox.errors import card_error
from stripe_sandbox.store import STORE

# The API version events and objects claim (the one stripe-python 16 pins).
API_VERSION = "2026-10-28.endive"

_applied = False


def apply() -> None:
    """Apply every patch (idempotent)."""
    global _applied
    if _applied:
        return
    _applied = True
    # localstripe's global dict pickles itself to /tmp/localstripe.pickle on every write
    # (parallel test processes would clobber each other) and is shared by all API keys.
    ls.store = STORE
    # localstripe sleeps 1 s before delivering to endpoints set through /_config.
    ls.schedule_webhook = webhooks.on_event
    # Ids from the system's randomness: localstripe draws them from the global `random`, which
    # tests (hypothesis) reseed, so two objects could get the same id.
    ls.random_id = context.random_token
    _patch_base()
    _patch_payment_methods()
    _patch_payment_intents()
    _patch_charges()
    _patch_customers()
    _patch_lists()


def _emit(event_type: str, obj: Any) -> None:
    ls.schedule_webhook(Event(event_type, obj))


def _patch_base() -> None:
    orig_init = StripeObject.__init__

    def __init__(self: Any, id: Any = None) -> None:
        orig_init(self, id)
        # localstripe hard-codes livemode False; live keys (sk_live_) get live objects.
        ctx = context.current()
        if ctx is not None and hasattr(self, "livemode"):
            self.livemode = ctx.livemode

    StripeObject.__init__ = __init__  # type: ignore[method-assign]

    orig_list = StripeObject._api_list_all.__func__  # type: ignore[attr-defined]

    def _api_list_all(cls: Any, url: Any, limit: Any = None, starting_after: Any = None, **kw: Any):
        li = orig_list(cls, url, limit=limit, starting_after=starting_after, **kw)
        # Stripe lists newest first; localstripe returns insertion order.
        li._list.reverse()
        return li

    StripeObject._api_list_all = classmethod(_api_list_all)  # type: ignore[assignment]

    orig_event_init = Event.__init__

    def event_init(self: Any, type: str, data: Any) -> None:
        orig_event_init(self, type, data)
        # Stripe's event shape has these; localstripe's has not.
        ctx = context.current()
        self.api_version = API_VERSION
        self.pending_webhooks = 0
        self.request = {
            "id": ctx.request_id if ctx else None,
            "idempotency_key": ctx.idempotency_key if ctx else None,
        }

    Event.__init__ = event_init  # type: ignore[method-assign]


def _patch_payment_methods() -> None:
    orig_init = PaymentMethod.__init__

    def __init__(self: Any, type: Any = None, billing_details: Any = None, card: Any = None, **kw):
        number = None
        if type == "card" and isinstance(card, dict) and "token" in card:
            card = _card_of_token(card["token"])
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
    _rebind_extra_api("/v1/payment_methods/{id}/attach", PaymentMethod._api_attach)


def _card_of_token(token: Any) -> dict[str, Any]:
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


def _patch_payment_intents() -> None:
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
        _check_amount(data.get("amount"), data.get("currency"))
        pm_data = data.pop("payment_method_data", None)
        if isinstance(pm_data, dict) and data.get("payment_method") is None:
            data["payment_method"] = PaymentMethod(**pm_data).id  # card[token]=tok_visa too
        obj = cls(**data)
        obj._off_session = _is_off_session(off_session)
        _emit("payment_intent.created", obj)
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
        _check_amount(obj.amount, obj.currency)
        if off_session is not None:
            obj._off_session = _is_off_session(off_session)
        obj._confirm(on_failure_now=obj._report_failure)
        return obj

    PaymentIntent._api_confirm = classmethod(_api_confirm)  # type: ignore[assignment]
    _rebind_extra_api("/v1/payment_intents/{id}/confirm", PaymentIntent._api_confirm)

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
                _emit("payment_intent.requires_action", self)
                return
            if not _set_up_for_off_session(pm):
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
        _emit("payment_intent.payment_failed", self)
        if self.invoice:
            Invoice._api_retrieve(self.invoice)._on_payment_failure_now()
        charge = self.latest_charge
        raise card_error(
            charge.failure_message,
            code=charge.failure_code,
            decline_code=_decline_of(charge).decline_code,
            charge=charge.id,
            doc_url=f"https://stripe.com/docs/error-codes/{charge.failure_code.replace('_', '-')}",
            payment_intent=self._export(),
            payment_method=_exported_payment_method(charge.payment_method),
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
                type="card_error", decline_code=_decline_of(self.latest_charge).decline_code
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
        _emit("payment_intent.canceled", obj)
        return obj

    PaymentIntent._api_cancel = classmethod(_api_cancel)  # type: ignore[assignment]
    _rebind_extra_api("/v1/payment_intents/{id}/cancel", PaymentIntent._api_cancel)

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


def mark_set_up(pm: Any) -> None:
    """``pm`` was authenticated for future use (a SetupIntent, or a payment with
    ``setup_future_usage``): cards that need authentication once are charged off-session."""
    pm._set_up_for_off_session = True


def _set_up_for_off_session(pm: Any) -> bool:
    return getattr(pm, "_card_number", None) in cards.AUTHENTICATE_ONCE and bool(
        getattr(pm, "_set_up_for_off_session", False)
    )


def _exported_payment_method(pm_id: Any) -> Any:
    """The PaymentMethod a card error names (Stripe's ``error.payment_method``), or None."""
    pm = ls.store.get("payment_method:" + str(pm_id)) if pm_id else None
    return pm._export() if pm is not None else None


def _check_amount(amount: Any, currency: Any) -> None:
    """Stripe's 400 for an amount it does not charge (see ``amounts``)."""
    amounts.check_charge_amount(
        ls.try_convert_to_int(amount), currency, amounts.settlement_currency()
    )


def _is_off_session(value: Any) -> bool:
    """Stripe's off_session is true/false or ``one_off``/``recurring``."""
    value = try_convert_to_bool(value)
    return value is True or value in ("one_off", "recurring")


def _decline_of(charge: Any) -> Decline:
    """The decline of a failed charge (forced, by card number, or generic)."""
    decline = getattr(charge, "_decline", None)
    if decline is None:
        pm = PaymentMethod._api_retrieve(charge.payment_method)
        decline = cards.decline_for(getattr(pm, "_card_number", None)) or cards.GENERIC_DECLINE
    return decline


def _rebind_extra_api(url: str, func: Any) -> None:
    """localstripe's route table holds the old bound methods; point ``url`` at ``func``."""
    for i, (method, route, _old) in enumerate(ls.extra_apis):
        if route == url:
            ls.extra_apis[i] = (method, route, func)


def _patch_charges() -> None:
    def _set_auth_failure(self: Any) -> None:
        # localstripe always says card_declined; use the card's own failure.
        decline = _decline_of(self)
        self._decline = decline
        self.status = "failed"
        self.failure_code = decline.code
        self.failure_message = decline.message

    Charge._set_auth_failure = _set_auth_failure  # type: ignore[method-assign]

    def _raise_failure(self: Any) -> None:
        decline = _decline_of(self)
        raise card_error(
            self.failure_message,
            code=self.failure_code,
            decline_code=decline.decline_code,
            charge=self.id,
            payment_method=_exported_payment_method(self.payment_method),
        )

    Charge._raise_failure = _raise_failure  # type: ignore[method-assign]

    orig_charge_create = Charge._api_create.__func__  # type: ignore[attr-defined]

    def charge_create(cls: Any, **data: Any) -> Any:
        # Stripe's amount bounds; a test token (tok_visa) as the source is a card to charge.
        _check_amount(data.get("amount"), data.get("currency"))
        source = data.get("source")
        if isinstance(source, str) and source.startswith("tok_"):
            data["source"] = PaymentMethod(type="card", card=_card_of_token(source)).id
        return orig_charge_create(cls, **data)

    Charge._api_create = classmethod(charge_create)  # type: ignore[assignment]

    orig_initialize = Charge._initialize_charge

    def _initialize_charge(
        self: Any, on_success: Any = None, on_failure_now: Any = None, on_failure_later: Any = None
    ) -> None:
        # localstripe emits no charge.* events.
        def succeeded() -> None:
            _emit("charge.succeeded", self)
            if on_success:
                on_success()

        def failed_now() -> None:
            _emit("charge.failed", self)
            if on_failure_now:
                on_failure_now()

        def failed_later() -> None:
            _emit("charge.failed", self)
            if on_failure_later:
                on_failure_later()

        orig_initialize(self, succeeded, failed_now, failed_later)
        if self.status == "succeeded" and not self.captured:
            _emit("charge.succeeded", self)  # authorized, to be captured later

    Charge._initialize_charge = _initialize_charge  # type: ignore[method-assign]

    orig_capture = Charge._capture

    def _capture(self: Any, amount: Any, on_success: Any = None) -> None:
        def captured() -> None:
            _emit("charge.captured", self)
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
        _emit("refund.created", self)
        _emit("charge.refunded", charge)

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


def _patch_customers() -> None:
    # Customers as Stripe creates them today: see ``customers``.
    from stripe_sandbox import customers

    customers.apply()


# Where a deleted customer's stub is kept (``GET /v1/customers/{id}`` answers it, like Stripe).
DELETED_CUSTOMER_PREFIX = "deleted_customer:"


def _created_filter(created: Any) -> Any:
    """A predicate on ``obj.created`` for Stripe's ``created`` list parameter."""
    if created is None:
        return lambda obj: True
    if not isinstance(created, dict):
        value = ls.try_convert_to_int(created)
        if not isinstance(value, int):
            raise UserError(400, "Invalid created.", {"param": "created"})
        return lambda obj: obj.created == value
    ops = {
        "gt": lambda a, b: a > b,
        "gte": lambda a, b: a >= b,
        "lt": lambda a, b: a < b,
        "lte": lambda a, b: a <= b,
    }
    bounds = []
    for op, raw in created.items():
        value = ls.try_convert_to_int(raw)
        if op not in ops or not isinstance(value, int):
            raise UserError(400, f"Invalid created[{op}].", {"param": "created"})
        bounds.append((ops[op], value))
    return lambda obj: all(f(obj.created, v) for f, v in bounds)


def _filtered_list(cls: Any, url: Any, limit: Any, starting_after: Any, **filters: Any) -> Any:
    """StripeObject's list (newest first) filtered by equality on ``filters`` (None: any)."""
    created = _created_filter(filters.pop("created", None))
    li = StripeObject._api_list_all.__func__(cls, url, limit=limit, starting_after=starting_after)
    li._list = [
        obj
        for obj in li._list
        if created(obj) and all(v is None or getattr(obj, k, None) == v for k, v in filters.items())
    ]
    return li


def _patch_lists() -> None:
    # localstripe's PaymentIntent list takes no filters and its Charge list only some (an
    # unknown one is a 500); the portal lists a customer's payments.
    def pi_list(
        cls: Any,
        url: Any,
        customer: Any = None,
        created: Any = None,
        limit: Any = None,
        starting_after: Any = None,
        **kw: Any,
    ) -> Any:
        if kw:
            raise UserError(400, "Received unknown parameter: " + ", ".join(kw))
        return _filtered_list(cls, url, limit, starting_after, customer=customer, created=created)

    PaymentIntent._api_list_all = classmethod(pi_list)  # type: ignore[assignment]

    def charge_list(
        cls: Any,
        url: Any,
        customer: Any = None,
        payment_intent: Any = None,
        created: Any = None,
        limit: Any = None,
        starting_after: Any = None,
        **kw: Any,
    ) -> Any:
        if kw:
            raise UserError(400, "Received unknown parameter: " + ", ".join(kw))
        return _filtered_list(
            cls,
            url,
            limit,
            starting_after,
            customer=customer,
            payment_intent=payment_intent,
            created=created,
        )

    Charge._api_list_all = classmethod(charge_list)  # type: ignore[assignment]

    orig_delete = Customer._api_delete.__func__  # type: ignore[attr-defined]

    def customer_delete(cls: Any, id: str) -> Any:
        # Stripe still answers a deleted customer's id, with the deleted stub.
        deleted = orig_delete(cls, id)
        ls.store[DELETED_CUSTOMER_PREFIX + id] = {"id": id, "object": "customer", "deleted": True}
        return deleted

    Customer._api_delete = classmethod(customer_delete)  # type: ignore[assignment]
