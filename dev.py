#!/usr/bin/env python3
"""Set up and run the portal, or its tests, on a machine with only Python 3.11 and git.

    python3 dev.py            set up, load the demo data, run the web server, one worker and
                              the Stripe sandbox together; Ctrl-C stops all three
    python3 dev.py test [..]  set up, then run the portal's test suite (arguments go to pytest),
                              then the Stripe sandbox's (stripe-sandbox/tests)
    python3 dev.py setup      only set up
    python3 dev.py bench [..] set up, then run the benchmarks (tests/perf/README.md; arguments
                              go to `python -m tests.perf`, e.g. --quick or --only 1,3)

Set-up is the same for both: a virtualenv in .venv (created if missing), the project and the
Stripe sandbox (stripe-sandbox/, a distribution of its own) installed into it (again only when
one of their pyproject.toml files changed), a development .env (created if missing) and the
database migrated. Standard library only: this runs before anything is installed.

PORT (default 8000) and SANDBOX_PORT (default 12111) choose the ports; the processes started get
SITE_URL=http://127.0.0.1:<PORT> (links in e-mails, the webhook URL registered in the sandbox)
unless SITE_URL is set in the environment or the .env.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
STAMP = VENV / ".portal-installed"
SANDBOX_DIR = ROOT / "stripe-sandbox"

WEB_PORT = int(os.environ.get("PORT", "8000"))
SANDBOX_PORT = int(os.environ.get("SANDBOX_PORT", "12111"))
SANDBOX_URL = f"http://127.0.0.1:{SANDBOX_PORT}"

DEMO_LOGINS = [
    ("Agency owner (two workspaces)", "owner@agency.test"),
    ("Staff, Acme Dental", "staff@acme.test"),
    ("Invoice payer, Acme Dental /acme/Branch A", "payer@acme.test"),
]
DEMO_PASSWORD = "demo-pass-2026"
# The demo workspace's Stripe account: dev.py registers these keys with the sandbox, then hands
# them to `manage.py demo_data` (DEMO_STRIPE_SECRET_KEY, DEMO_STRIPE_PUBLISHABLE_KEY).
DEMO_STRIPE_SECRET_KEY = "sk_test_51AcmeDentalDemoKey000000004242"
DEMO_STRIPE_PUBLISHABLE_KEY = "pk_test_51AcmeDentalDemoKey000000004242"
DEMO_STRIPE_ACCOUNT = {
    "id": "acct_1AcmeDentalDemo",
    "name": "Acme Dental",
    "country": "US",
    "default_currency": "usd",
    "email": "billing@acme.test",
}


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def run(*args: str | Path, env: dict | None = None) -> None:
    subprocess.run([str(a) for a in args], cwd=ROOT, check=True, env=env)


def setup() -> None:
    if sys.version_info[:2] != (3, 11):
        sys.exit(f"Python 3.11 is required (this is {sys.version.split()[0]}).")
    if not PYTHON.exists():
        say("Creating the virtualenv in .venv")
        run(sys.executable, "-m", "venv", VENV)
    wanted = hashlib.sha256()
    for pyproject in (ROOT / "pyproject.toml", SANDBOX_DIR / "pyproject.toml"):
        wanted.update(hashlib.sha256(pyproject.read_bytes()).digest())
    if not STAMP.exists() or STAMP.read_text() != wanted.hexdigest():
        say("Installing the project and its dependencies (a few minutes the first time)")
        run(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
        # One command, so pip resolves the two together. The sandbox is installed from its
        # folder, never named in the portal's extras (a name there would be looked up on PyPI).
        run(
            PYTHON, "-m", "pip", "install", "--quiet",
            "-e", "./stripe-sandbox[test]", "-e", ".[dev]",
        )  # fmt: skip
        STAMP.write_text(wanted.hexdigest())
    env_file = ROOT / ".env"
    if not env_file.exists():
        say("Writing a development .env (see .env.example for every setting)")
        env_file.write_text(
            "# Development settings written by dev.py; never use these in production.\n"
            "DEBUG=1\n"
            f"SECRET_KEY={secrets.token_urlsafe(50)}\n"
            f"FERNET_KEYS={secrets.token_urlsafe(32)}\n"
            f"STRIPE_API_BASE={SANDBOX_URL}\n"
            f"STRIPE_JS_URL={SANDBOX_URL}/js.stripe.com/v3/\n"
            "# SITE_URL: unset, dev.py gives its processes http://127.0.0.1:<PORT>.\n"
            "# E-mails: unset EMAIL_URL with DEBUG on, they go to var/outbox/ (/dev/outbox/).\n"
        )
    (ROOT / "var").mkdir(exist_ok=True)


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def wait_for_port(port: int, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"A process exited before it listened on port {port}.")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"Nothing listened on port {port} after {seconds:.0f} s.")


class Processes:
    """Children in their own process groups, so stopping one stops everything it started."""

    def __init__(self) -> None:
        self.children: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, *command: str | Path) -> subprocess.Popen:
        process = subprocess.Popen(
            [str(a) for a in command], cwd=ROOT, start_new_session=True, env=run_env()
        )
        self.children.append((name, process))
        return process

    def stop(self) -> None:
        # A second Ctrl-C while stopping would leave the rest running: ignore it (a few seconds).
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        for _, process in self.children:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for _, process in self.children:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        for _, process in self.children:  # grandchildren (runserver's reloader) too
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def env_file_values(path: Path) -> dict[str, str]:
    """The KEY=value lines of a .env file, as django-environ reads them (comments, blank lines
    and `export ` skipped, quotes around a value removed); {} when there is no file."""
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        return {}
    values = {}
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.removeprefix("export ").split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def site_url(environ: dict, env_file: dict, port: int) -> str | None:
    """The SITE_URL to hand the processes dev.py starts: http://127.0.0.1:<port>, so the links
    in e-mails and the webhook URL registered in the sandbox reach this web server; None when
    SITE_URL is set in the environment or the .env (not blank), which then wins."""
    if environ.get("SITE_URL", "").strip() or env_file.get("SITE_URL", "").strip():
        return None
    return f"http://127.0.0.1:{port}"


def run_env() -> dict:
    env = dict(os.environ)
    env_file = Path(env.get("ENV_FILE") or ROOT / ".env")
    url = site_url(env, env_file_values(env_file), WEB_PORT)
    if url:
        env["SITE_URL"] = url
    env.setdefault("STRIPE_API_BASE", SANDBOX_URL)
    env.setdefault("STRIPE_JS_URL", f"{SANDBOX_URL}/js.stripe.com/v3/")
    env.setdefault("DEBUG", "1")
    env.setdefault("Q_WORKERS", "1")  # one worker process is plenty on a laptop
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def _interrupt(*_) -> None:
    raise KeyboardInterrupt


def serve() -> int:
    setup()
    for port in (WEB_PORT, SANDBOX_PORT):
        if not port_is_free(port):
            sys.exit(f"Port {port} is in use (another portal still running?). Stop it first.")
    env = run_env()
    say("Migrating the database (SQLite in var/ unless DATABASE_URL is set)")
    run(PYTHON, "manage.py", "migrate", "--no-input", env=env)
    processes = Processes()
    # Ctrl-C, a closed terminal and SIGTERM all stop everything. SIGINT is set explicitly:
    # a shell that starts us in the background would otherwise leave it ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for number in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, _interrupt)
    try:
        say(f"Starting the Stripe sandbox on {SANDBOX_URL}")
        sandbox = processes.start(
            "Stripe sandbox",
            BIN / "stripe-sandbox",
            "--port",
            str(SANDBOX_PORT),
            "--data-file",
            "var/stripe-sandbox.pickle",
        )
        wait_for_port(SANDBOX_PORT, sandbox)
        say("Loading the demo data")
        register_demo_keys()
        demo_env = dict(
            env,
            DEMO_STRIPE_SECRET_KEY=DEMO_STRIPE_SECRET_KEY,
            DEMO_STRIPE_PUBLISHABLE_KEY=DEMO_STRIPE_PUBLISHABLE_KEY,
        )
        # Also registers the demo connection's webhook endpoint at SITE_URL in the sandbox:
        # declines, ACH settlements and refunds arrive as Stripe's events would.
        run(PYTHON, "manage.py", "demo_data", "--register-webhook", env=demo_env)
        say("Starting the web server and one worker")
        web = processes.start(
            "web server", PYTHON, "manage.py", "runserver", f"127.0.0.1:{WEB_PORT}"
        )
        processes.start("worker", PYTHON, "manage.py", "qcluster")
        wait_for_port(WEB_PORT, web)
        logins = "\n".join(f"    {email:<22} {who}" for who, email in DEMO_LOGINS)
        print(
            f"\n  The portal is running at http://127.0.0.1:{WEB_PORT}/\n\n"
            f"  Demo logins (password {DEMO_PASSWORD}):\n{logins}\n"
            "  Django admin: /admin/ (an operator: .venv/bin/python manage.py createsuperuser)\n"
            f"  E-mails sent: http://127.0.0.1:{WEB_PORT}/dev/outbox/ (files in var/outbox/)\n"
            "  Settle or fail an ACH payment: .venv/bin/stripe-sandbox ach settle|fail pi_...\n"
            f"    --url {SANDBOX_URL}\n\n"
            "  Press Ctrl-C to stop the web server, the worker and the Stripe sandbox.\n",
            flush=True,
        )
        while True:
            for name, process in processes.children:
                if process.poll() is not None:
                    say(f"The {name} stopped (exit code {process.returncode}); stopping the rest.")
                    return 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        say("Stopping")
        return 0
    finally:
        processes.stop()


def register_demo_keys() -> None:
    """Register the demo account's keys with the running sandbox (again on every start: a
    sandbox whose data file was deleted forgot them), through its control API."""
    command = [
        PYTHON, "-m", "stripe_sandbox.control", "--url", SANDBOX_URL,
        "register-key", DEMO_STRIPE_SECRET_KEY,
        "--publishable-key", DEMO_STRIPE_PUBLISHABLE_KEY,
        "--account", json.dumps(DEMO_STRIPE_ACCOUNT),
    ]  # fmt: skip
    # It prints the account; errors go to stderr and stop dev.py.
    subprocess.run([str(a) for a in command], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def test(args: list[str]) -> int:
    setup()
    # Two workers per core: the tests wait on the sandbox's answers, browsers and worker
    # processes about as much as they compute. Work stealing keeps every worker busy to the
    # end instead of leaving one with the last long tests.
    workers = os.environ.get("PYTEST_WORKERS", str(2 * (os.cpu_count() or 1)))
    command = [str(PYTHON), "-m", "pytest", "-n", workers, "--dist", "worksteal", "-rs", *args]
    say("Running the portal's test suite: " + " ".join(command[2:]))
    portal = subprocess.call(command, cwd=ROOT)
    # The sandbox's own suite, from its folder (its pytest settings, no Django); the arguments
    # above are the portal's. Its browser tests compute more than they wait: one per core.
    command = [str(PYTHON), "-m", "pytest", "-n", str(os.cpu_count() or 1), "-rs"]
    say("Running the Stripe sandbox's test suite (stripe-sandbox/): " + " ".join(command[2:]))
    sandbox = subprocess.call(command, cwd=SANDBOX_DIR)
    return portal or sandbox


def bench(args: list[str]) -> int:
    setup()
    command = [str(PYTHON), "-m", "tests.perf", *args]
    say("Running the benchmarks (about 12 minutes): " + " ".join(command[1:]))
    return subprocess.call(command, cwd=ROOT)


def main(argv: list[str]) -> int:
    if argv[:1] == ["test"]:
        return test(argv[1:])
    if argv[:1] == ["bench"]:
        return bench(argv[1:])
    if argv == ["setup"]:
        setup()
        return 0
    if argv:
        sys.exit(__doc__)
    return serve()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
