"""Item 1 (bar 1): the event-to-run pipeline end to end, against the bare view in the same run.

2,000 Stripe-like events (about 1 KB each, distinct ids, signed as Stripe signs) are sent by
16 concurrent clients (threads on keep-alive connections) to the connection's webhook
endpoint while 2 workers run; a published workflow whose only step is a filter on
`trigger.type` takes each. The figure is finished runs per second from the first delivery to
the last run's `finished_at` (read from the runs' rows), against `/healthz/` requests per
second measured just before with the closed-loop client. CPU per event is the CPU time of
every web and worker process (from /proc) over the job, divided by the events; the
acknowledgement is timed per request by its client. Every event must give exactly one
finished run (none lost, none twice).
"""

from __future__ import annotations

import http.client
import os
import threading
import time
import uuid
from pathlib import Path

from tests.integrations.webhook_helpers import event_body, signature
from tests.perf.client import Request, closed_loop, percentile, run_threads
from tests.perf.report import Figure
from tests.perf.stack import group_pids

EVENTS, CLIENTS = 2000, 16
HEALTH = [Request("GET", "/healthz/")]
TICK = os.sysconf("SC_CLK_TCK")
# Stripe's customer/payment fields, enough to make the body about 1 KB like a real event.
FILLER = {"description": "Bench order 0000", "metadata": {"order": "A" * 400},
          "receipt_email": "lead@bench.test", "statement_descriptor": "BENCH"}  # fmt: skip


def _event(stack, tag: str, n: int) -> Request:
    body = event_body(
        f"evt_{tag}_{n:06d}",
        type="payment_intent.succeeded",
        data={"object": {"id": f"pi_{tag}_{n:06d}", "object": "payment_intent",
                         "amount": 2500, "currency": "usd", "status": "succeeded",
                         "customer": None, **FILLER}},
    )  # fmt: skip
    headers = {
        "Content-Type": "application/json",
        "Stripe-Signature": signature(body, stack.seed["webhook_secret"]),
    }
    return Request("POST", f"/hooks/stripe/{stack.seed['endpoint']}/", headers, body)


def cpu_seconds(*processes) -> float:
    """CPU time (user + system, with reaped children) of every process in these groups."""
    total = 0
    for process in processes:
        if process is None:
            continue
        for pid in group_pids(process.pid):
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    return total / TICK


def _send_all(host, requests: list[Request]) -> tuple[list[float], dict[int, int], float]:
    """Send every request once, CLIENTS at a time; (ack latencies ms, statuses, wall start)."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    queue = iter(requests)

    def client() -> None:
        conn = http.client.HTTPConnection(*host, timeout=30)
        while True:
            with lock:
                req = next(queue, None)
            if req is None:
                break
            started = time.monotonic()
            try:
                conn.request(req.method, req.path, body=req.body, headers=req.headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(*host, timeout=30)
                status = 0
            with lock:
                latencies.append((time.monotonic() - started) * 1000)
                statuses[status] = statuses.get(status, 0) + 1
        conn.close()

    wall = time.time()
    run_threads(client, CLIENTS)
    return latencies, statuses, wall


def _finished(stack, tag: str) -> tuple[int, int, float | None]:
    """(runs caused by the tag's events, those finished, the last finished_at)."""
    rows = stack.query(
        "SELECT count(*), count(finished_at), max(finished_at) FROM automation_run"
        " WHERE cause LIKE %s",
        (f"stripe_event:evt_{tag}_%",),
    )
    total, done, last = rows[0]
    return total, done, (stack.when(last) if last else None)


def one_round(bench, stack, count: int) -> dict:
    tag = uuid.uuid4().hex[:10]
    requests = [_event(stack, tag, n) for n in range(count)]
    health = closed_loop(stack.host, HEALTH, bench.seconds(6)).rps
    web_before, workers_before = cpu_seconds(stack.web), cpu_seconds(stack.workers)
    latencies, statuses, first = _send_all(stack.host, requests)
    deadline, last_progress, seen = time.monotonic() + 300, time.monotonic(), -1
    while time.monotonic() < deadline and time.monotonic() - last_progress < 30:
        total, done, last = _finished(stack, tag)
        if done >= count:
            break
        if done != seen:
            seen, last_progress = done, time.monotonic()
        time.sleep(0.2)
    web_cpu = cpu_seconds(stack.web) - web_before
    worker_cpu = cpu_seconds(stack.workers) - workers_before
    cpu = web_cpu + worker_cpu
    total, done, last = _finished(stack, tag)
    rate = done / (last - first) if last and done else 0.0
    return {"ratio": rate / health, "rate": rate, "health": health, "cpu_ms": cpu / count * 1000,
            "web_ms": web_cpu / count * 1000, "worker_ms": worker_cpu / count * 1000,
            "p95": percentile(latencies, 95), "lost": count - done, "extra": max(total - count, 0),
            "failed_acks": sum(n for s, n in statuses.items() if s != 200)}  # fmt: skip


def run(bench) -> list[Figure]:
    count = bench.count(EVENTS)
    figures = []
    for stack in bench.stacks:
        stack.start_workers(2)
        closed_loop(stack.host, HEALTH, 2)  # warm-up: imports, connections
        one_round(bench, stack, 50)
        rounds = [one_round(bench, stack, count) for _ in range(bench.repeats)]
        stack.stop_workers()
        label = stack.config.label

        def values(key: str) -> list[float]:
            return [r[key] for r in rounds]  # noqa: B023 - used at once

        figures += [
            Figure("1", f"end to end: finished runs/s / bare view req/s, {label}",
                   values("ratio"), "", ">= 0.08", lambda v: v >= 0.08,
                   note=f"{count} events, {CLIENTS} clients, filter-only workflow"),
            Figure("1", f"end to end: finished runs/s, {label}", values("rate"), "runs/s"),
            Figure("1", f"end to end: bare /healthz/ view, {label}", values("health"), "req/s"),
            Figure("1", f"end to end: CPU per event (web + workers), {label}", values("cpu_ms"),
                   "ms", "<= 12 ms", lambda v: v <= 12),
            Figure("1", f"end to end: CPU per event in the web processes, {label}",
                   values("web_ms"), "ms"),
            Figure("1", f"end to end: CPU per event in the workers, {label}",
                   values("worker_ms"), "ms"),
            Figure("1", f"end to end: p95 acknowledgement during the burst, {label}",
                   values("p95"), "ms", "< 100 ms", lambda v: v < 100),
            Figure("1", f"end to end: runs lost or doubled, failed acks, {label}",
                   [sum(values("lost")) + sum(values("extra")) + sum(values("failed_acks"))],
                   "", "0", lambda v: v == 0,
                   note=f"lost {sum(values('lost'))}, doubled {sum(values('extra'))}, "
                        f"failed acks {sum(values('failed_acks'))}"),
        ]  # fmt: skip
    return figures
