"""The per-request context of the sandbox: which account a Stripe API call acts for.

localstripe's resource classes are synchronous and read a module-global ``store``; the sandbox
runs each HTTP request in its own asyncio task, so a ``ContextVar`` set by the auth middleware
tells the partitioned store (and the event hook) which account and request are current. Tasks
spawned while handling a request (localstripe's async callbacks, webhook deliveries) inherit a
copy of the context, so they keep acting for the same account.
"""

from __future__ import annotations

import contextlib
import secrets
import string
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass

_ALPHABET = string.ascii_letters + string.digits


def random_token(length: int) -> str:
    """Return ``length`` random alphanumeric characters (Stripe's id alphabet)."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def new_request_id() -> str:
    """Return a Stripe-like request id (``req_`` + 14 characters)."""
    return "req_" + random_token(14)


@dataclass(frozen=True)
class RequestContext:
    """Who is calling: the account acted for and the request being served.

    ``account_id`` is the key's own account, or the connected account named by a platform's
    ``Stripe-Account`` header; ``key_account_id`` is always the key's own account;
    ``key_kind`` is the key's kind (``secret``, ``restricted``, ``publishable``; None outside of
    an authenticated call): Stripe.js calls with a publishable key must prove they hold the
    intent's ``client_secret``.
    """

    account_id: str
    livemode: bool = False
    request_id: str | None = None
    idempotency_key: str | None = None
    key_account_id: str | None = None
    key_kind: str | None = None


_current: ContextVar[RequestContext | None] = ContextVar("stripe_sandbox_request", default=None)


def current() -> RequestContext | None:
    """The context of the API call being served, or None outside of one (control API)."""
    return _current.get()


@contextlib.contextmanager
def acting_as(ctx: RequestContext) -> Iterator[RequestContext]:
    """Run the body as ``ctx`` (used by the auth middleware and by tests)."""
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)
