"""The portal's real servers for one configuration, on loopback, on a fresh database.

A `Stack` is gunicorn (gthread, like production), `manage.py qcluster` workers and the
configuration's database and broker: SQLite + the ORM broker ("embedded") or PostgreSQL +
Redis ("scale-out"). The Stripe sandbox is one `Sandbox` process shared by the stacks; each
stack's workspace has an account of its own in it. Everything runs in its own process group
with its output in a log file, and is killed at the end.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from stripe_sandbox.control import SandboxControl

from tests.loopback import free_port, gunicorn_no_control_socket

ROOT = Path(__file__).resolve().parents[2]
PG_SERVER = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
PG_DATABASE = "portal_bench"
# A Redis database of its own: the test suite uses 0, 14 and 15.
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/13")
WEB_WORKERS = int(os.environ.get("BENCH_WEB_WORKERS", "3"))
WEB_THREADS = int(os.environ.get("BENCH_WEB_THREADS", "4"))
SECRETS = {"SECRET_KEY": secrets.token_urlsafe(50), "FERNET_KEYS": secrets.token_urlsafe(32)}


@dataclass(frozen=True)
class Config:
    name: str
    label: str
    postgres: bool

    @property
    def broker(self) -> str:
        return "Redis" if self.postgres else "ORM"


EMBEDDED = Config("embedded", "SQLite + ORM broker", postgres=False)
SCALE_OUT = Config("scale-out", "PostgreSQL + Redis", postgres=True)


def base_env(**extra: str) -> dict[str, str]:
    """Production settings (DEBUG off) over plain HTTP on loopback."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST", "DATABASE_URL", "REDIS_URL", "Q_"))
    }
    return {
        **env,
        **SECRETS,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "ENV_FILE": "/nonexistent",
        "DEBUG": "0",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def wait_for_port(port: int, process: subprocess.Popen, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on {port} within {seconds:.0f} s")


def group_pids(leader: int) -> list[int]:
    """The processes of the process group `leader` (gunicorn's workers, qcluster's)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == leader:
                pids.append(int(entry.name))
    return pids


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set (VmHWM) in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def kill_group(process: subprocess.Popen | None, grace: float = 5.0) -> None:
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _spawn(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    with open(log, "ab") as out:
        return subprocess.Popen(
            args, cwd=ROOT, env=env, start_new_session=True, stdout=out, stderr=subprocess.STDOUT
        )


class Sandbox:
    """The `stripe-sandbox` command in memory, as dev.py starts it."""

    def __init__(self, logs: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.control = SandboxControl(self.url)
        self.process = _spawn(
            [str(Path(sys.executable).with_name("stripe-sandbox")), "--port", str(self.port),
             "--data-file", ""],
            base_env(), logs / "sandbox.log",
        )  # fmt: skip
        wait_for_port(self.port, self.process, "the Stripe sandbox")

    def stop(self) -> None:
        kill_group(self.process)


class Stack:
    """One configuration: a fresh database, gunicorn and qcluster on demand."""

    def __init__(self, config: Config, sandbox: Sandbox, workdir: Path):
        self.config = config
        self.sandbox = sandbox
        self.logs = workdir / config.name
        self.logs.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.web: subprocess.Popen | None = None
        self.workers: subprocess.Popen | None = None
        self.sqlite_path = self.logs / "db.sqlite3"
        database = (
            f"{PG_SERVER}/{PG_DATABASE}" if config.postgres else f"sqlite:///{self.sqlite_path}"
        )
        self.env = base_env(
            DATABASE_URL=database,
            STRIPE_API_BASE=sandbox.url,
            SITE_URL=f"http://127.0.0.1:{self.port}",
            Q_QUEUE=f"bench-{config.name}",
            STRIPE_RATE_FILE=str(self.logs / "stripe-rate.sqlite3"),
        )
        if config.postgres:
            self.env["REDIS_URL"] = REDIS
        self.seed: dict = {}

    # --- set-up -------------------------------------------------------------------------

    def create(self) -> Stack:
        """A fresh, migrated database (and an empty Redis database), with the bench seed."""
        if self.config.postgres:
            import psycopg
            import redis

            with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
                conn.execute(f"CREATE DATABASE {PG_DATABASE}")
            redis.Redis.from_url(REDIS).flushdb()
        else:
            self.sqlite_path.unlink(missing_ok=True)
        self.manage("migrate", "--no-input")
        self.seed = self.ops("seed", name=self.config.name.replace("-", ""),
                             sandbox_url=self.sandbox.url)  # fmt: skip
        return self

    def destroy(self) -> None:
        self.stop()
        if self.config.postgres:
            import psycopg

            with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")

    def manage(self, *args: str, env: dict | None = None) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env={**self.env, **(env or {})},
            capture_output=True, text=True,
        )  # fmt: skip
        if done.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return done.stdout

    def ops(self, command: str, **kwargs) -> dict:
        done = subprocess.run(
            [sys.executable, "-m", "tests.perf.ops", command, json.dumps(kwargs)],
            cwd=ROOT, env=self.env, capture_output=True, text=True,
        )  # fmt: skip
        if done.returncode:
            raise RuntimeError(f"ops {command} failed:\n{done.stdout}{done.stderr}")
        return json.loads(done.stdout.strip().splitlines()[-1])

    # --- processes ----------------------------------------------------------------------

    def start_web(self) -> Stack:
        self.web = _spawn(
            [sys.executable, "-m", "gunicorn", "portal.wsgi", "--workers", str(WEB_WORKERS),
             "--worker-class", "gthread", "--threads", str(WEB_THREADS),
             "--bind", f"127.0.0.1:{self.port}", "--timeout", "60", *gunicorn_no_control_socket()],
            self.env, self.logs / "web.log",
        )  # fmt: skip
        wait_for_port(self.port, self.web, f"gunicorn ({self.config.name})")
        return self

    def start_workers(self, count: int = 2, **settings: str) -> Stack:
        """`manage.py qcluster` with `count` worker processes; `settings` are more env vars."""
        self.stop_workers()
        env = {**self.env, "Q_WORKERS": str(count), **settings}
        self.workers = _spawn([sys.executable, "manage.py", "qcluster"], env,
                              self.logs / "worker.log")  # fmt: skip
        return self

    def stop_workers(self) -> None:
        kill_group(self.workers)
        self.workers = None

    def stop(self) -> None:
        self.stop_workers()
        kill_group(self.web)
        self.web = None

    def peak_rss(self) -> dict[str, float]:
        """Peak RSS (MiB) of the largest gunicorn worker and the largest qcluster process."""
        out = {}
        for name, process in (("web", self.web), ("worker", self.workers)):
            if process is not None and process.poll() is None:
                pids = [p for p in group_pids(process.pid) if p != process.pid or name == "worker"]
                out[name] = max((peak_rss_mb(p) for p in pids), default=0.0)
        return out

    def log_count(self, text: str) -> int:
        return sum(path.read_text(errors="replace").count(text) for path in self.logs.glob("*.log"))

    # --- reading the database directly (fast polling without Django) ------------------------

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        """`sql` with %s placeholders, on this stack's database."""
        if self.config.postgres:
            import psycopg

            with psycopg.connect(f"{PG_SERVER}/{PG_DATABASE}") as conn:
                return conn.execute(sql, params).fetchall()
        with sqlite3.connect(self.sqlite_path, timeout=20) as conn:
            return conn.execute(sql.replace("%s", "?"), params).fetchall()

    def runs(self, tag: str) -> dict:
        """Status counts of the runs caused by `tag`, and when they started and finished."""
        rows = self.query(
            "SELECT status, count(*), min(started_at), max(finished_at) FROM automation_run"
            " WHERE cause LIKE %s GROUP BY status",
            (f"{tag}:%",),
        )
        counts = {row[0]: row[1] for row in rows}
        starts = [_when(row[2]) for row in rows if row[2]]
        ends = [_when(row[3]) for row in rows if row[3]]
        return {
            "counts": counts,
            "first_start": min(starts) if starts else None,
            "last_finish": max(ends) if ends else None,
        }

    @staticmethod
    def when(value) -> float:
        """A time read by `query` as seconds since the epoch."""
        return _when(value)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def host(self) -> tuple[str, int]:
        return "127.0.0.1", self.port


def _when(value) -> float:
    if isinstance(value, str):  # SQLite keeps UTC times as text
        value = datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value.timestamp()
