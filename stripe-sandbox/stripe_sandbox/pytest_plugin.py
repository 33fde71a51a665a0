"""pytest fixtures for the Stripe sandbox.

Installing the distribution registers it with pytest (the ``pytest11`` entry point in
stripe-sandbox/pyproject.toml): every test run in that environment has these fixtures.

- ``stripe_sandbox_server`` (session): one ``SandboxServer`` per test process on a free port
  (safe with pytest-xdist).
- ``stripe_sandbox`` (function): the same server, reset before the test (no data, keys, faults,
  logs or webhook endpoints); a ``StripeSandbox`` with ``url``, ``control``, ``new_account()``
  and ``client()``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from stripe_sandbox.context import random_token
from stripe_sandbox.control import SandboxControl
from stripe_sandbox.server import SandboxServer

if TYPE_CHECKING:
    import stripe


@dataclass
class StripeSandbox:
    """A reset sandbox, for one test."""

    url: str
    control: SandboxControl

    def new_account(
        self, *, live: bool = False, permissions: dict[str, str] | None = None, **account: Any
    ) -> tuple[str, str, dict[str, Any]]:
        """Register fresh random keys for a new account; returns (secret, publishable, account).

        ``account`` fields: id, name, country, default_currency, email. ``permissions`` makes
        the secret key a restricted ``rk_`` key. ``live`` makes ``_live_`` keys.
        """
        mode = "live" if live else "test"
        secret = f"{'rk' if permissions is not None else 'sk'}_{mode}_{random_token(32)}"
        publishable = f"pk_{mode}_{random_token(32)}"
        acct = self.control.register_key(
            secret, publishable_key=publishable, account=account or None, permissions=permissions
        )
        return secret, publishable, acct

    def client(self, api_key: str, **kwargs: Any) -> stripe.StripeClient:
        """A stripe-python client for this sandbox (API and Connect OAuth), without the SDK's
        own retries; pass ``client_id="ca_..."`` for ``client.oauth``."""
        import stripe

        kwargs.setdefault("max_network_retries", 0)
        kwargs.setdefault("base_addresses", {"api": self.url, "connect": self.url})
        return stripe.StripeClient(api_key, **kwargs)


@pytest.fixture(scope="session")
def stripe_sandbox_server() -> Iterator[SandboxServer]:
    """One running sandbox for the test process."""
    server = SandboxServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def stripe_sandbox(stripe_sandbox_server: SandboxServer) -> StripeSandbox:
    """The process's sandbox, emptied for this test."""
    url = stripe_sandbox_server.url
    assert url is not None
    control = SandboxControl(url)
    control.reset()
    return StripeSandbox(url=url, control=control)
