"""Running the sandbox: in a background thread (tests) or in the foreground (``stripe-sandbox``).

There is one sandbox state per process (see ``stripe_sandbox.state``): two servers in the
same process serve the same data. Stripe's rate limit (``stripe_sandbox.rate_limit``) is
off by default in the thread, where tests make many calls quickly and turn it on when they
test it, and on by default in the foreground, where the portal meets it as it would meet Stripe.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from aiohttp import web

from stripe_sandbox import persistence
from stripe_sandbox.app import build_app
from stripe_sandbox.control import SandboxControl
from stripe_sandbox.control import main as control_main
from stripe_sandbox.state import STATE

logger = logging.getLogger(__name__)

SAVE_INTERVAL_SECONDS = 5.0


async def _start_site(host: str, port: int) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(build_app(), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server = site._server  # the asyncio Server: the only way to learn the port when port=0
    assert server is not None and server.sockets
    return runner, server.sockets[0].getsockname()[1]


class SandboxServer:
    """The sandbox on its own event loop in a daemon thread.

    ``start()`` returns once the port is listening; ``url`` is then e.g.
    ``http://127.0.0.1:54321`` and ``control`` a ``SandboxControl`` for it.
    """

    def __init__(self, *, rate_limit: bool = False) -> None:
        self.rate_limit = rate_limit
        self.url: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    @property
    def control(self) -> SandboxControl:
        if self.url is None:
            raise RuntimeError("the sandbox server is not started")
        return SandboxControl(self.url)

    def start(self, host: str = "127.0.0.1", port: int = 0) -> SandboxServer:
        """Listen on ``host:port`` (0: a free port); raise if that fails."""
        if self._thread is not None:
            raise RuntimeError("already started")
        STATE.rate_limit.enabled_by_default = self.rate_limit
        STATE.rate_limit.reset()
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                self._runner, bound = loop.run_until_complete(_start_site(host, port))
                self.url = f"http://{host}:{bound}"
            except BaseException as exc:  # noqa: BLE001 - reported to start()'s caller
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=run, name="stripe-sandbox", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread = None
            raise failure[0]
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving and join the thread."""
        if self._thread is None or self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)
        self._thread = None
        self.url = None


def serve_forever(
    host: str = "127.0.0.1",
    port: int = 12111,
    data_file: str | Path | None = None,
    *,
    rate_limit: bool = True,
) -> None:
    """Serve until SIGINT/SIGTERM. With ``data_file``, load it first, save it every few seconds
    and on exit. ``rate_limit``: Stripe's per-account limit is on by default."""
    STATE.rate_limit.enabled_by_default = rate_limit
    STATE.rate_limit.reset()
    asyncio.run(_serve(host, port, Path(data_file) if data_file else None))


async def _serve(host: str, port: int, data_file: Path | None) -> None:
    if data_file is not None and persistence.load(STATE, data_file):
        logger.info("stripe sandbox: loaded %s", data_file)
    runner, bound = await _start_site(host, port)
    print(f"Stripe sandbox listening on http://{host}:{bound}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    saved_at = STATE.requests.total
    try:
        while not stop.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), SAVE_INTERVAL_SECONDS)
            # Cheap enough: only when API calls were made since the last save.
            if data_file is not None and STATE.requests.total != saved_at:
                saved_at = STATE.requests.total
                persistence.dump(STATE, data_file)
    finally:
        await runner.cleanup()
        if data_file is not None:
            persistence.dump(STATE, data_file)


def main(argv: Sequence[str] | None = None) -> int:
    """``stripe-sandbox [--host] [--port] [--data-file] [--no-rate-limit]``: serve until Ctrl-C or
    SIGTERM (the console script; ``python -m stripe_sandbox`` too). ``stripe-sandbox ach
    settle|fail pi_...`` drives a running sandbox instead (``stripe_sandbox.control``)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["ach"]:
        return control_main(argv, prog="stripe-sandbox")
    parser = argparse.ArgumentParser(
        prog="stripe-sandbox",
        description="Serve the local Stripe-compatible sandbox (localstripe plus the portal's "
        "extensions). Point STRIPE_API_BASE at it.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=12111, help="port to listen on")
    parser.add_argument(
        "--data-file",
        default="var/stripe-sandbox.pickle",
        help="where the data is loaded from and saved to ('' to keep it in memory only)",
    )
    parser.add_argument(
        "--no-rate-limit",
        action="store_true",
        help="do not enforce Stripe's per-account rate limit (25 requests/s in test mode, "
        "100 in live mode; lower it through the control API)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    serve_forever(args.host, args.port, args.data_file or None, rate_limit=not args.no_rate_limit)
    return 0
