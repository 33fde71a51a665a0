"""The server side of the sandbox's fake Stripe.js (``static/stripe-v3.js``).

Stripe.js calls a few endpoints with the publishable key (``key`` in the body or query string,
``_stripe_account`` for ``Stripe(pk, {stripeAccount})``, see ``auth``). On the intent endpoints
it must also send the intent's ``client_secret``: with a publishable key the sandbox refuses a
missing or wrong one, like Stripe (with a secret key it is optional, but checked when given).

- ``GET /v1/payment_intents/{id}`` and ``GET /v1/setup_intents/{id}`` (``retrievePaymentIntent``,
  ``retrieveSetupIntent``);
- ``POST /v1/payment_intents/{id}/confirm`` (the ``extensions`` confirmation, secret checked);
- ``POST /v1/payment_intents/{id}/_authenticate?success=true|false``: the outcome of the fake
  3-D Secure challenge (localstripe's endpoint, with Stripe's events and error wording);
- ``POST /v1/setup_intents/{id}/confirm``: attaches the PaymentMethod to the SetupIntent's
  customer on success (localstripe does not), declines like Stripe (the intent goes back to
  ``requires_payment_method``, not ``canceled``), asks for 3-D Secure for 3DS cards;
- ``POST /v1/setup_intents/{id}/_authenticate?success=true|false``: new, the SetupIntent's
  3-D Secure outcome;
- ``GET /js.stripe.com/v3/``: the fake Stripe.js itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web
from localstripe import resources as ls
from localstripe.errors import UserError
from localstripe.resources import Invoice, PaymentIntent, PaymentMethod, SetupIntent, Token

from stripe_sandbox import cards, context, ls_server
from stripe_sandbox.errors import card_error, json_response
from stripe_sandbox.extensions.objects import emit, rebind_extra_api
from stripe_sandbox.extensions.payment_methods import mark_set_up, resolve_payment_method
from stripe_sandbox.params import read_params

JS_PATH = Path(__file__).resolve().parent / "static" / "stripe-v3.js"

# Parameters Stripe.js sends that are no API parameters (``key`` and ``payment_user_agent`` are
# already dropped by localstripe's body parser).
_STRIPE_JS_PARAMS = ("key", "_stripe_account", "payment_user_agent", "referrer", "use_stripe_sdk")

SETUP_AUTHENTICATION_FAILED = (
    "The latest attempt to set up the payment method has failed because authentication failed."
)

_applied = False


def apply() -> None:
    """Patch localstripe's intents for Stripe.js (idempotent; after ``extensions.apply``)."""
    global _applied
    if _applied:
        return
    _applied = True
    _patch_stripe_js_params()
    _patch_payment_intents()
    _patch_setup_intents()


def _drop_stripe_js_params(data: dict[str, Any]) -> None:
    for name in _STRIPE_JS_PARAMS:
        data.pop(name, None)


def _is_publishable() -> bool:
    ctx = context.current()
    return ctx is not None and ctx.key_kind == "publishable"


def check_client_secret(obj: Any, client_secret: Any) -> None:
    """Refuse a wrong ``client_secret`` for ``obj`` (a missing one with a publishable key)."""
    kind = "PaymentIntent" if obj.object == "payment_intent" else "SetupIntent"
    if client_secret is None or client_secret == "":
        if _is_publishable():
            raise UserError(
                400, "Missing required param: client_secret.", {"param": "client_secret"}
            )
        return
    if client_secret != obj.client_secret:
        raise UserError(
            400,
            f"The client_secret provided does not match the client_secret associated with the "
            f"{kind}.",
            {"param": "client_secret", "code": f"{obj.object}_invalid_parameter"},
        )


def _patch_stripe_js_params() -> None:
    # Stripe.js sends _stripe_account (Connect) in the body; localstripe rejects unknown params.
    for cls in (PaymentMethod, Token):
        orig = cls._api_create.__func__  # type: ignore[attr-defined]

        def _api_create(cls: Any, _orig: Any = orig, **data: Any) -> Any:
            _drop_stripe_js_params(data)
            return _orig(cls, **data)

        cls._api_create = classmethod(_api_create)  # type: ignore[assignment]


def _patch_payment_intents() -> None:
    confirm = PaymentIntent._api_confirm.__func__  # type: ignore[attr-defined]

    def _api_confirm(cls: Any, id: str, client_secret: Any = None, **kw: Any) -> Any:
        _drop_stripe_js_params(kw)
        check_client_secret(cls._api_retrieve(id), client_secret)
        return confirm(cls, id, **kw)

    PaymentIntent._api_confirm = classmethod(_api_confirm)  # type: ignore[assignment]
    rebind_extra_api("/v1/payment_intents/{id}/confirm", PaymentIntent._api_confirm)

    def _api_authenticate(
        cls: Any, id: str, client_secret: Any = None, success: Any = False, **kw: Any
    ) -> Any:
        # Replaces localstripe's: Stripe's error for a wrong secret, and the failure event.
        _drop_stripe_js_params(kw)
        if kw:
            raise UserError(400, "Received unknown parameter: " + ", ".join(kw))
        obj = cls._api_retrieve(id)
        check_client_secret(obj, client_secret or None)
        if obj.status != "requires_action":
            raise UserError(
                400,
                f"This PaymentIntent has a status of {obj.status}; it does not require "
                "authentication.",
                {"code": "payment_intent_unexpected_state"},
            )
        obj.next_action = None
        if ls.try_convert_to_bool(success) is True:
            obj._create_charge(on_failure_now=obj._report_failure)
            return obj
        obj._authentication_failed = True
        obj.payment_method = None
        emit("payment_intent.payment_failed", obj)
        if obj.invoice:
            Invoice._api_retrieve(obj.invoice)._on_payment_failure_later()
        return obj

    PaymentIntent._api_authenticate = classmethod(_api_authenticate)  # type: ignore[assignment]
    rebind_extra_api("/v1/payment_intents/{id}/_authenticate", PaymentIntent._api_authenticate)


def _patch_setup_intents() -> None:
    orig_init = SetupIntent.__init__

    def __init__(self: Any, *args: Any, **kw: Any) -> None:
        orig_init(self, *args, **kw)
        self.last_setup_error = None

    SetupIntent.__init__ = __init__  # type: ignore[method-assign]

    def _api_confirm(
        cls: Any,
        id: str,
        client_secret: Any = None,
        payment_method: Any = None,
        payment_method_data: Any = None,
        return_url: Any = None,
        expand: Any = None,
        **kw: Any,
    ) -> Any:
        # Replaces localstripe's (see the module docstring).
        _drop_stripe_js_params(kw)
        if kw:
            raise UserError(400, "Received unknown parameter: " + ", ".join(kw))
        obj = cls._api_retrieve(id)
        check_client_secret(obj, client_secret)
        if obj.status not in ("requires_payment_method", "requires_confirmation"):
            raise UserError(
                400,
                f"You cannot confirm this SetupIntent because it has a status of {obj.status}.",
                {"code": "setup_intent_unexpected_state"},
            )
        if payment_method is not None:
            pm = PaymentMethod._api_retrieve(resolve_payment_method(payment_method))
        elif isinstance(payment_method_data, dict):
            pm = PaymentMethod(**payment_method_data)
        elif obj.payment_method:
            pm = PaymentMethod._api_retrieve(obj.payment_method)
        else:
            raise UserError(
                400,
                "You cannot confirm this SetupIntent because it's missing a payment method.",
                {"code": "setup_intent_unexpected_state"},
            )
        obj._attach_pm(pm)
        return obj

    SetupIntent._api_confirm = classmethod(_api_confirm)  # type: ignore[assignment]
    rebind_extra_api("/v1/setup_intents/{id}/confirm", SetupIntent._api_confirm)

    def _attach_pm(self: Any, pm: Any) -> None:
        self.payment_method = pm.id
        self.last_setup_error = None
        number = getattr(pm, "_card_number", None)
        if pm._attaching_is_declined():
            decline = cards.decline_for(number) or cards.GENERIC_DECLINE
            self.payment_method = None
            self.status = "requires_payment_method"
            self.next_action = None
            self.last_setup_error = {
                "type": "card_error",
                "code": decline.code,
                "decline_code": decline.decline_code,
                "message": decline.message,
                "payment_method": pm._export(),
            }
            emit("setup_intent.setup_failed", self)
            raise card_error(
                decline.message,
                code=decline.code,
                decline_code=decline.decline_code,
                setup_intent=self._export(),
            )
        if pm._requires_authentication():
            self.status = "requires_action"
            self.next_action = {
                "type": "use_stripe_sdk",
                "use_stripe_sdk": {"type": "three_d_secure_redirect", "stripe_js": ""},
            }
            emit("setup_intent.requires_action", self)
            return
        _succeed_setup(self, pm)

    SetupIntent._attach_pm = _attach_pm  # type: ignore[method-assign]

    def _api_authenticate(
        cls: Any, id: str, client_secret: Any = None, success: Any = False, **kw: Any
    ) -> Any:
        _drop_stripe_js_params(kw)
        if kw:
            raise UserError(400, "Received unknown parameter: " + ", ".join(kw))
        obj = cls._api_retrieve(id)
        check_client_secret(obj, client_secret or None)
        if obj.status != "requires_action":
            raise UserError(
                400,
                f"This SetupIntent has a status of {obj.status}; it does not require "
                "authentication.",
                {"code": "setup_intent_unexpected_state"},
            )
        pm = PaymentMethod._api_retrieve(obj.payment_method)
        obj.next_action = None
        if ls.try_convert_to_bool(success) is True:
            _succeed_setup(obj, pm)
            return obj
        obj.status = "requires_payment_method"
        obj.payment_method = None
        obj.last_setup_error = {
            "type": "invalid_request_error",
            "code": "setup_intent_authentication_failure",
            "message": SETUP_AUTHENTICATION_FAILED,
            "payment_method": pm._export(),
        }
        emit("setup_intent.setup_failed", obj)
        return obj

    SetupIntent._api_authenticate = classmethod(_api_authenticate)  # type: ignore[attr-defined]
    ls.extra_apis.append(
        ("POST", "/v1/setup_intents/{id}/_authenticate", SetupIntent._api_authenticate)  # type: ignore[attr-defined]
    )

    cancel = SetupIntent._api_cancel.__func__  # type: ignore[attr-defined]

    def _api_cancel(cls: Any, id: str, client_secret: Any = None, **kw: Any) -> Any:
        _drop_stripe_js_params(kw)
        check_client_secret(cls._api_retrieve(id), client_secret)
        return cancel(cls, id, **kw)

    SetupIntent._api_cancel = classmethod(_api_cancel)  # type: ignore[assignment]
    rebind_extra_api("/v1/setup_intents/{id}/cancel", SetupIntent._api_cancel)


def _succeed_setup(intent: Any, pm: Any) -> None:
    """A SetupIntent succeeded: its PaymentMethod is attached to its customer, like Stripe."""
    intent.status = "succeeded"
    intent.next_action = None
    intent.payment_method = pm.id
    mark_set_up(pm)  # 4000002500003155 is now charged off-session
    if intent.customer and getattr(pm, "customer", None) is None:
        pm.customer = intent.customer
    emit("setup_intent.succeeded", intent)


def _retrieve_handler(cls: Any, base: str) -> Any:
    """GET of an intent: with a publishable key, only with its ``client_secret``."""
    plain = ls_server.api_retrieve(cls, base)

    async def handler(request: web.Request) -> web.StreamResponse:
        if not _is_publishable():
            return plain(request)
        params = dict(await read_params(request))
        obj = cls._api_retrieve(request.match_info["id"])
        check_client_secret(obj, params.get("client_secret"))
        return json_response(obj._export(expand=params.get("expand")))

    return handler


async def serve_js(request: web.Request) -> web.StreamResponse:
    """The fake Stripe.js (read on each request: edits show up without a restart)."""
    return web.Response(
        text=JS_PATH.read_text(),
        content_type="application/javascript",
        headers={"Cache-Control": "no-cache"},
    )


def add_routes(app: web.Application) -> None:
    """Mount the intent GET routes (before localstripe's) and the fake Stripe.js."""
    app.router.add_get(
        "/v1/payment_intents/{id}", _retrieve_handler(PaymentIntent, "/v1/payment_intents")
    )
    app.router.add_get(
        "/v1/setup_intents/{id}", _retrieve_handler(SetupIntent, "/v1/setup_intents")
    )
    app.router.add_get("/js.stripe.com/v3/", serve_js)
