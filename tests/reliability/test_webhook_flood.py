"""A webhook flood against real processes: gunicorn (3 workers x 4 threads) and a `qcluster`.

1,000 signed deliveries, 30% of them duplicates (some sent at the same moment as their
original), from 16 concurrent clients on loopback: every distinct event is stored once and
processed once, every answer is a 200, and neither server logs "database is locked".
Runs on the configuration under test: SQLite + the ORM broker, or PostgreSQL + Redis.
Slow: `pytest -m "not slow"` leaves it out.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings
from django_q.models import Task

from integrations.models import StripeEvent
from integrations.services import webhook_secret_set
from tests.automation.test_worker import _database_url
from tests.factories import StripeConnectionFactory
from tests.integrations.webhook_helpers import event_body, signature
from tests.loopback import free_port, gunicorn_no_control_socket

ROOT = Path(__file__).resolve().parents[2]
SECRET = "whsec_flood_0123456789abcdef"
DELIVERIES, DISTINCT, CLIENTS = 1000, 700, 16
STALL = 20  # seconds without a newly processed event: the worker is stuck

pytestmark = pytest.mark.slow


class Servers:
    """gunicorn and one `qcluster`, each in its own process group, output kept in files."""

    def __init__(self, logs: Path, queue: str):
        self.port = free_port()
        self.logs = logs
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("PYTEST")},
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "ENV_FILE": "/nonexistent",
            "DEBUG": "0",
            "SECURE_SSL_REDIRECT": "0",  # plain HTTP on loopback
            "SECRET_KEY": django_settings.SECRET_KEY,
            "FERNET_KEYS": ",".join(django_settings.FERNET_KEYS),
            "DATABASE_URL": _database_url(),
            "Q_QUEUE": queue,  # the web processes enqueue on it, the worker takes from it
            "Q_WORKERS": "2",
            "LOG_LEVEL": "WARNING",
        }
        if self.env.get("REDIS_URL"):
            # A Redis database of its own: tests that call `cache.clear()` flush theirs, and
            # with it the broker's queue.
            redis = urlsplit(self.env["REDIS_URL"])
            self.env["REDIS_URL"] = redis._replace(path="/15").geturl()
        self.processes: dict[str, subprocess.Popen] = {}

    def _start(self, name: str, args: list[str]) -> None:
        with open(self.logs / f"{name}.log", "wb") as out:
            self.processes[name] = subprocess.Popen(
                args, cwd=ROOT, env=self.env, start_new_session=True,
                stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def start(self) -> Servers:
        self._start("web", [sys.executable, "-m", "gunicorn", "portal.wsgi", "--workers", "3",
                            "--worker-class", "gthread", "--threads", "4",
                            "--bind", f"127.0.0.1:{self.port}", "--timeout", "60",
                            *gunicorn_no_control_socket()])  # fmt: skip
        self._start("worker", [sys.executable, "manage.py", "qcluster"])
        deadline = time.monotonic() + 30
        while True:
            assert self.processes["web"].poll() is None, self.output()
            try:
                # The webhook URL answers GET with 405: a page without templates (with DEBUG
                # off, those need collected static files).
                status, _ = self.request("GET", f"/hooks/stripe/{uuid.uuid4()}/")
                if status == 405:
                    return self
            except OSError:
                pass
            assert time.monotonic() < deadline, "gunicorn did not start:\n" + self.output()
            time.sleep(0.2)

    def request(self, method: str, path: str, body: bytes = b"", headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def output(self) -> str:
        return "".join(
            f"--- {path.name}\n{path.read_text(errors='replace')}"
            for path in sorted(self.logs.glob("*.log"))
        )

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _deliveries(seed: int = 20260302) -> list[bytes]:
    """700 distinct `customer.updated` events (customers no contact has: nothing to run) and
    300 redeliveries, shuffled; a third of the redeliveries go right after their original so
    both are in flight together."""
    rng = random.Random(seed)
    bodies = [
        event_body(
            f"evt_flood_{n:04d}",
            type="customer.updated",
            data={"object": {"id": f"cus_flood_{n:04d}", "object": "customer"}},
        )
        for n in range(DISTINCT)
    ]
    again = rng.sample(bodies, DELIVERIES - DISTINCT)
    together, later = again[:100], again[100:]
    sequence = bodies + later
    rng.shuffle(sequence)
    for body in together:
        sequence.insert(sequence.index(body) + 1, body)
    return sequence


@pytest.fixture
def servers(tmp_path):
    running = Servers(tmp_path, queue=f"flood-{uuid.uuid4().hex[:8]}")
    try:
        yield running.start()
    finally:
        running.stop()


@pytest.mark.django_db(transaction=True)
def test_a_webhook_flood_stores_and_processes_every_event_exactly_once(servers):
    connection = StripeConnectionFactory()
    endpoint = webhook_secret_set(connection=connection, secret=SECRET)
    url = f"/hooks/stripe/{endpoint.uuid}/"
    deliveries = _deliveries()
    assert len(deliveries) == DELIVERIES and len(set(deliveries)) == DISTINCT

    def send(body: bytes) -> int:
        headers = {"Content-Type": "application/json", "Stripe-Signature": signature(body, SECRET)}
        return servers.request("POST", url, body, headers)[0]

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        answers = Counter(pool.map(send, deliveries))

    assert answers == {200: DELIVERIES}, servers.output()
    events = StripeEvent.objects.filter(endpoint=endpoint)
    assert events.count() == DISTINCT

    # About 15 s on an idle machine; beside the browser tests on two busy cores, a minute or
    # more. So the wait fails when the worker stalls (no progress for STALL seconds), not at
    # a fixed time, with an outer bound.
    done, progress_at, deadline = 0, time.monotonic(), time.monotonic() + 240
    while done < DISTINCT:
        assert servers.processes["worker"].poll() is None, servers.output()
        now = time.monotonic()
        assert now - progress_at < STALL and now < deadline, (
            f"{Counter(events.values_list('status', flat=True))}\n{servers.output()}"
        )
        time.sleep(0.2)
        processed = events.filter(status=StripeEvent.Status.PROCESSED).count()
        done, progress_at = processed, (time.monotonic() if processed > done else progress_at)

    assert set(events.values_list("event_id", flat=True)) == {
        json.loads(body)["id"] for body in deliveries
    }
    assert Counter(events.values_list("attempts", flat=True)) == {1: DISTINCT}
    assert not Task.objects.filter(group="stripe-events", success=False).exists()
    output = servers.output()
    assert "database is locked" not in output, output
    assert "Traceback" not in output, output
