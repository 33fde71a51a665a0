"""Stripe's per-account rate limit in the sandbox: 429 ``rate_limit`` beyond N calls a second."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import stripe

from stripe_sandbox.control import SandboxControl, SandboxControlError
from stripe_sandbox.rate_limit import RateLimiter

from .test_server import _free_port


def _burst(client, n: int) -> list[int]:
    """Status of ``n`` calls made as fast as possible."""
    statuses = []
    for _ in range(n):
        try:
            client.v1.customers.list(params={"limit": 1})
            statuses.append(200)
        except stripe.RateLimitError as error:
            statuses.append(error.http_status)
    return statuses


def test_beyond_the_rate_an_account_gets_stripes_rate_limit_error(stripe_sandbox):
    secret, _, _ = stripe_sandbox.new_account()
    client = stripe_sandbox.client(secret)
    stripe_sandbox.control.set_rate_limit(test=5)

    assert _burst(client, 5) == [200] * 5
    with pytest.raises(stripe.RateLimitError) as info:
        client.v1.customers.create(params={"email": "late@example.com"})

    error = info.value
    assert error.http_status == 429
    assert error.json_body["error"]["type"] == "invalid_request_error"
    assert error.json_body["error"]["code"] == "rate_limit"
    # Stripe asks for a retry only on lock timeouts; the SDK leaves rate limits to us.
    assert "Stripe-Should-Retry" not in error.headers
    time.sleep(1.05)  # a second later the account may call again
    assert client.v1.customers.list().data == []  # the refused create did nothing
    assert stripe_sandbox.control.rate_limit()["refused"] == 1


def test_the_limit_counts_each_account_and_mode_apart(stripe_sandbox):
    control = stripe_sandbox.control
    control.set_rate_limit(test=3, live=6)
    test_key, _, account = stripe_sandbox.new_account()
    other_key, _, _ = stripe_sandbox.new_account()
    live_key = "sk_live_" + test_key.removeprefix("sk_test_")
    control.register_key(live_key, account={"id": account["id"]})

    assert _burst(stripe_sandbox.client(test_key), 5) == [200] * 3 + [429] * 2
    assert _burst(stripe_sandbox.client(other_key), 3) == [200] * 3
    assert _burst(stripe_sandbox.client(live_key), 7) == [200] * 6 + [429]
    logged = [r["status"] for r in control.requests() if r["account"] == account["id"]]
    assert logged.count(429) == 3


def test_the_window_slides_and_reset_restores_the_default_off():
    limiter = RateLimiter()
    assert all(limiter.allow("acct_1", False, now=0.0) for _ in range(100))
    limiter.configure(enabled=True, test=2)
    assert [limiter.allow("acct_1", False, now=10.0) for _ in range(3)] == [True, True, False]
    assert limiter.allow("acct_1", False, now=11.0)  # the window slid past the first two
    limiter.reset()
    assert limiter.export() == {"enabled": False, "test": 25, "live": 100, "refused": 0}


def test_rates_below_one_are_refused(stripe_sandbox):
    with pytest.raises(SandboxControlError) as info:
        stripe_sandbox.control.set_rate_limit(test=0)
    assert info.value.status == 400


def test_the_stripe_sandbox_command_enforces_stripes_limits_by_default(tmp_path):
    port = _free_port()
    # The console script pip installed next to this Python (what dev.py starts).
    command = [str(Path(sys.executable).with_name("stripe-sandbox")), "--port", str(port),
               "--data-file", ""]  # fmt: skip
    proc = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    control = SandboxControl(f"http://127.0.0.1:{port}", timeout=2)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                limits = control.rate_limit()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "no sandbox"
                time.sleep(0.1)
        control.reset()
        assert control.rate_limit() == limits
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert limits == {"enabled": True, "test": 25, "live": 100, "refused": 0}
