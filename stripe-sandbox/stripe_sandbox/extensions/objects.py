"""What every localstripe object and event needs: live-mode objects for live keys, lists
newest first, Stripe's event fields; ``emit`` an event and ``rebind_extra_api`` after a
patch.
"""

from __future__ import annotations

from typing import Any

from localstripe import resources as ls
from localstripe.resources import (
    Event,
    StripeObject,
)

from stripe_sandbox import context

# The API version events and objects claim (the one stripe-python 16 pins).
API_VERSION = "2026-10-28.endive"


def emit(event_type: str, obj: Any) -> None:
    ls.schedule_webhook(Event(event_type, obj))


def rebind_extra_api(url: str, func: Any) -> None:
    """localstripe's route table holds the old bound methods; point ``url`` at ``func``."""
    for i, (method, route, _old) in enumerate(ls.extra_apis):
        if route == url:
            ls.extra_apis[i] = (method, route, func)


def patch_base() -> None:
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
