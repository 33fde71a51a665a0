"""Items 2 and 7: webhook intake against the bare view, then a paced flood while workers drain.

Part A (no workers running): the same gunicorn and the same closed-loop client alternate
between `/healthz/` (no database) and the Stripe webhook endpoint (signature check,
deduplicating insert, enqueue) with distinct signed events; the figure is the ratio of their
requests per second, per round. Part B: the workers start on the queue part A left, and
signed events arrive at 100 per second (Stripe's live-mode rate); the p95 of the
acknowledgements is taken per third of the window. Item 7 reads the peak RSS afterwards.
"""

from __future__ import annotations

import uuid

from tests.integrations.webhook_helpers import event_body, signature
from tests.perf.client import Request, bounded_rate, closed_loop, percentile
from tests.perf.report import Figure

HEALTH = [Request("GET", "/healthz/")]


def _event(stack, tag: str, n: int) -> Request:
    body = event_body(
        f"evt_{tag}_{n:06d}",
        type="customer.updated",
        data={"object": {"id": f"cus_{tag}_{n:06d}", "object": "customer"}},
    )
    headers = {
        "Content-Type": "application/json",
        "Stripe-Signature": signature(body, stack.seed["webhook_secret"]),
    }
    return Request("POST", f"/hooks/stripe/{stack.seed['endpoint']}/", headers, body)


def _events(stack, count: int) -> list[Request]:
    tag = uuid.uuid4().hex[:10]
    return [_event(stack, tag, n) for n in range(count)]


def intake_ratio(bench, stack) -> list[Figure]:
    label = stack.config.label
    seconds = bench.seconds(6)
    closed_loop(stack.host, HEALTH, 2)  # warm-up: imports, connections, caches
    closed_loop(stack.host, _events(stack, 500), 2)
    ratios, webhook_rps, health_rps, errors = [], [], [], 0
    for round_ in range(bench.repeats):
        results = {}
        order = ("health", "webhook") if round_ % 2 == 0 else ("webhook", "health")
        for variant in order:
            requests = HEALTH if variant == "health" else _events(stack, 1500 * int(seconds))
            results[variant] = closed_loop(stack.host, requests, seconds)
        ratios.append(results["webhook"].rps / results["health"].rps)
        webhook_rps.append(results["webhook"].rps)
        health_rps.append(results["health"].rps)
        errors += results["webhook"].errors + results["health"].errors
    return [
        Figure("2", f"webhook rps / bare view rps, {label}", ratios, "", ">= 0.40",
               lambda v: v >= 0.40),
        Figure("2", f"webhook intake, {label}", webhook_rps, "req/s"),
        Figure("2", f"bare /healthz/ view, {label}", health_rps, "req/s"),
        Figure("2", f"errors in the intake runs, {label}", [errors], "", "0", lambda v: v == 0),
    ]  # fmt: skip


def paced_flood(bench, stack) -> list[Figure]:
    label, rate, seconds = stack.config.label, 100, bench.seconds(60)
    stack.start_workers()
    tag = uuid.uuid4().hex[:10]
    paced = bounded_rate(stack.host, lambda n: _event(stack, tag, n), rate, seconds)
    third = len(paced.latencies_ms) // 3
    p95s = [percentile(paced.window(k * third, (k + 1) * third), 95) for k in range(3)]
    failed = sum(count for status, count in paced.statuses.items() if status != 200)
    events = stack.ops("events", endpoint=stack.seed["endpoint"])
    rss = stack.peak_rss()
    stack.stop_workers()
    stack.ops("purge_queue")
    locked = stack.log_count("database is locked")
    return [
        Figure("2", f"p95 ack at {rate} events/s while workers drain, {label}", p95s, "ms",
               "< 250 ms", lambda v: v < 250, note=f"{seconds:.0f} s, p95 per third"),
        Figure("2", f"failed acks at {rate}/s, {label}", [failed], "", "0", lambda v: v == 0,
               note=f"answers by status, 0 = none: {dict(sorted(paced.statuses.items()))}"),
        Figure("2", f'"database is locked" in the logs, {label}', [locked], "", "0",
               lambda v: v == 0),
        Figure("2", f"events processed by the end of the flood, {label}",
               [events.get("processed", 0)], "", note=f"stored {sum(events.values())}"),
        Figure("7", f"peak RSS of a web process after the flood, {label}", [rss["web"]], "MiB"),
        Figure("7", f"peak RSS of a worker after the flood, {label}", [rss["worker"]], "MiB"),
    ]  # fmt: skip


def run(bench) -> list[Figure]:
    figures = []
    for stack in bench.stacks:
        figures += intake_ratio(bench, stack)
        figures += paced_flood(bench, stack)
    return figures
