"""Running the sandbox: the thread runner, serve_forever with persistence, the control client."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import stripe

from stripe_sandbox.control import SandboxControl, SandboxControlError
from stripe_sandbox.server import SandboxServer

ROOT = Path(__file__).resolve().parents[1]  # stripe-sandbox/


def test_the_fixture_server_listens_on_loopback(stripe_sandbox):
    assert stripe_sandbox.url.startswith("http://127.0.0.1:")
    assert stripe_sandbox.control.requests() == []
    assert stripe_sandbox.control.deliveries() == []


def test_a_second_server_can_start_and_stop_on_another_port(stripe_sandbox):
    server = SandboxServer().start()
    try:
        assert server.url != stripe_sandbox.url
        server.control.faults()
    finally:
        server.stop()
    assert server.url is None


def test_start_fails_loudly_on_a_busy_port(stripe_sandbox):
    port = int(stripe_sandbox.url.rsplit(":", 1)[1])
    with pytest.raises(OSError):
        SandboxServer().start(port=port)


def test_localstripe_uses_the_partitioned_store_not_tmp(stripe_sandbox):
    from localstripe import resources

    from stripe_sandbox.store import STORE

    # localstripe's own store pickles to /tmp/localstripe.pickle on every write.
    assert resources.store is STORE


def test_control_errors_raise(stripe_sandbox):
    with pytest.raises(SandboxControlError) as info:
        stripe_sandbox.control.register_key("not-a-key")
    assert info.value.status == 400
    with pytest.raises(SandboxControlError):
        stripe_sandbox.control.revoke_key("sk_test_neverregistered")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(port: int, data_file: Path) -> subprocess.Popen:
    code = (
        "from stripe_sandbox.server import serve_forever; "
        f"serve_forever('127.0.0.1', {port}, {str(data_file)!r})"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    control = SandboxControl(f"http://127.0.0.1:{port}", timeout=2)
    deadline = time.monotonic() + 20
    while True:
        try:
            control.faults()
            return proc
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise AssertionError(proc.communicate()) from None
            time.sleep(0.05)


def test_serve_forever_persists_to_the_data_file_and_exits_on_sigterm(tmp_path):
    data_file = tmp_path / "var" / "sandbox.pickle"
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    proc = _run(port, data_file)
    try:
        SandboxControl(url).register_key("sk_test_persisted0000000000001", account={"name": "P"})
        client = stripe.StripeClient(
            "sk_test_persisted0000000000001", base_addresses={"api": url}, max_network_retries=0
        )
        customer = client.v1.customers.create(params={"email": "kept@example.com"})
        control = SandboxControl(url)
        control.register_platform("ca_persisted", "sk_test_persisted0000000000001")
        control.add_external_account("sk_test_persisted0000000000001", last4="1234")
        control.set_balance("sk_test_persisted0000000000001", [{"amount": 5, "currency": "usd"}])
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert data_file.exists()

    proc = _run(port, data_file)
    try:
        assert client.v1.customers.retrieve(customer.id).email == "kept@example.com"
        assert [p["client_id"] for p in SandboxControl(url).platforms()] == ["ca_persisted"]
        assert client.v1.accounts.retrieve_current().external_accounts.data[0].last4 == "1234"
        assert client.v1.balance.retrieve().available[0].amount == 5
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=20)
    assert proc.returncode == 0
