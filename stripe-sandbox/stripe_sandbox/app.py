"""The sandbox's aiohttp application: localstripe's routes behind Stripe-like middlewares.

Middlewares, outermost first: request log (assigns the Request-Id), authentication (sets the
account context), Stripe's per-account rate limit, injected faults, idempotency replay, slow
execution (delay faults), Stripe-shaped errors. Routes: those of ``dashboard`` (balance,
accounts and bank accounts, customer search...), every localstripe resource route (with the
patches of ``extensions``), ``/v1/webhook_endpoints``, Connect OAuth (``oauth``), the sandbox's
fake Stripe.js at ``/js.stripe.com/v3/`` with the intent routes it needs (``stripe_js``) and
the control API.
"""

from __future__ import annotations

import inspect
from typing import Any

from aiohttp import web
from localstripe import resources as ls

from stripe_sandbox import (
    ach,
    auth,
    control_api,
    dashboard,
    extensions,
    faults,
    idempotency,
    ls_server,
    oauth,
    pagination,
    rate_limit,
    request_log,
    stripe_js,
)
from stripe_sandbox.errors import error_middleware
from stripe_sandbox.state import STATE
from stripe_sandbox.webhooks import WebhookEndpoint, create_endpoint

# localstripe's resource classes with the standard create/retrieve/update/delete/list routes.
_RESOURCES = (
    ls.BalanceTransaction,
    ls.Charge,
    ls.Coupon,
    ls.Customer,
    ls.Event,
    ls.Invoice,
    ls.InvoiceItem,
    ls.PaymentIntent,
    ls.PaymentMethod,
    ls.Payout,
    ls.Plan,
    ls.Product,
    ls.Refund,
    ls.SetupIntent,
    ls.Source,
    ls.Subscription,
    ls.SubscriptionItem,
    ls.TaxRate,
    ls.Token,
)


def _async(handler: Any) -> Any:
    """Wrap one of localstripe's synchronous handlers (aiohttp deprecates bare functions)."""
    if inspect.iscoroutinefunction(handler):
        return handler

    async def wrapper(request: web.Request) -> web.StreamResponse:
        return handler(request)

    return wrapper


def _add_resource_routes(app: web.Application, cls: type, create: bool = True) -> None:
    base = "/v1/" + cls.object + "s"  # type: ignore[attr-defined]
    if create:
        app.router.add_post(base, ls_server.api_create(cls, base))
    app.router.add_get(base + "/{id}", _async(ls_server.api_retrieve(cls, base)))
    app.router.add_post(base + "/{id}", ls_server.api_update(cls, base))
    app.router.add_delete(base + "/{id}", _async(ls_server.api_delete(cls, base)))
    app.router.add_get(base, pagination.list_handler(cls, base))


def build_app() -> web.Application:
    """A new application serving the (process-wide) sandbox state."""
    extensions.apply()
    stripe_js.apply()
    ach.apply()  # after the two above: it wraps their patches
    app = web.Application(
        middlewares=[
            request_log.make_middleware(STATE.requests),
            auth.make_middleware(STATE.keys, STATE.connect),
            rate_limit.make_middleware(STATE.rate_limit),
            faults.make_middleware(STATE.faults),
            idempotency.make_middleware(STATE.idempotency),
            faults.slow_execution_middleware,
            error_middleware,
        ]
    )
    # The fake Stripe.js calls the API from the portal's origin.
    app.on_response_prepare.append(ls_server.add_cors_headers)
    # Extra routes first, so that /v1/invoices/upcoming does not fall into /v1/invoices/{id}.
    # Ours first: /v1/balance and the customer routes replace localstripe's.
    dashboard.add_routes(app)
    stripe_js.add_routes(app)
    for method, url, func in ls.extra_apis:
        app.router.add_route(method, url, ls_server.api_extra(func, url))
    for cls in _RESOURCES:
        _add_resource_routes(app, cls)
    app.router.add_post("/v1/webhook_endpoints", create_endpoint)
    _add_resource_routes(app, WebhookEndpoint, create=False)
    oauth.add_routes(app)
    control_api.add_routes(app)
    ach.add_routes(app)
    return app
