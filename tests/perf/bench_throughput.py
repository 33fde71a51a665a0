"""Item 6: runs per second of a 3-step workflow (filter, create customer, one-time charge).

A batch of runs is queued with the workers stopped; then `qcluster` starts with 1 or 2 worker
processes and drains it. The rate is the batch over the time from the first run's start to
the last run's end (from the runs' own rows, so the cluster's start-up is not counted). The
variants alternate in each round: ORM broker on SQLite and Redis on PostgreSQL with 2
workers, Redis with 1, and on SQLite (where every write takes the one write lock) the shipped
`save_limit` against 250 (django-q2 keeping the last 250 successes).
Stripe's rate limits are off here (in the sandbox and the portal's bucket): this measures the
portal, item 4 measures the limits.
"""

from __future__ import annotations

import itertools
import time

from tests.perf.report import Figure

_rounds = itertools.count()


def prepare(stacks_variants: dict, size: int) -> dict[str, tuple[str, str]]:
    """Queue one batch per variant, each on a queue of its own: name -> (tag, queue)."""
    n = next(_rounds)
    batches = {name: (f"tp{n}v{i}", f"bench-tp{n}v{i}") for i, name in enumerate(stacks_variants)}
    for stack in {variant[0] for variant in stacks_variants.values()}:
        mine = dict(v for k, v in batches.items() if stacks_variants[k][0] is stack)
        stack.ops("enqueue", workspace=stack.seed["workspace"],
                  workflow=stack.seed["three_steps"], batches=mine, count=size)  # fmt: skip
    return batches


def drain(stack, workers: int, size: int, tag: str, queue: str, **settings) -> tuple[float, int]:
    """(runs per second, runs that did not succeed) for the batch `tag` waiting on `queue`."""
    stack.start_workers(workers, STRIPE_RATE_LIMIT="0", Q_QUEUE=queue, **settings)
    deadline = time.monotonic() + 120
    while True:
        runs = stack.runs(tag)
        done = sum(n for status, n in runs["counts"].items() if status not in ("queued", "running"))
        if done == size:
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"{stack.config.label}: {done}/{size} runs done: {runs['counts']}")
        time.sleep(0.2)
    stack.stop_workers()
    failed = size - runs["counts"].get("succeeded", 0)
    return size / (runs["last_finish"] - runs["first_start"]), failed


def run(bench) -> list[Figure]:
    embedded, scale_out = bench.stack("embedded"), bench.stack("scale-out")
    variants = {
        "ORM/SQLite, 2 workers": (embedded, 2, {}),
        "Redis/PG, 1 worker": (scale_out, 1, {}),
        "Redis/PG, 2 workers": (scale_out, 2, {}),
        "ORM/SQLite, 2 workers, save_limit 250": (embedded, 2, {"Q_SAVE_LIMIT": "250"}),
    }
    bench.sandbox.control.set_rate_limit(enabled=False)
    size = bench.count(40)
    rates = {name: [] for name in variants}
    failed = 0
    try:
        for round_ in range(bench.repeats):
            batches = prepare(variants, size)
            names = list(variants) if round_ % 2 == 0 else list(variants)[::-1]
            for name in names:
                stack, workers, settings = variants[name]
                rate, bad = drain(stack, workers, size, *batches[name], **settings)
                rates[name].append(rate)
                failed += bad
    finally:
        bench.sandbox.control.set_rate_limit(enabled=True)

    def ratio(a: str, b: str) -> list[float]:
        return [x / y for x, y in zip(rates[a], rates[b], strict=True)]

    figures = [Figure("6", f"runs/s, {name}", values, "runs/s") for name, values in rates.items()]
    figures += [
        Figure("6", "ORM broker on SQLite / Redis on PostgreSQL (2 workers)",
               ratio("ORM/SQLite, 2 workers", "Redis/PG, 2 workers"), "", ">= 0.35",
               lambda v: v >= 0.35),
        Figure("6", "2 workers / 1 worker, Redis on PostgreSQL",
               ratio("Redis/PG, 2 workers", "Redis/PG, 1 worker"), "", ">= 1.6",
               lambda v: v >= 1.6),
        Figure("6", "shipped save_limit / save_limit 250, ORM/SQLite (2 workers)",
               ratio("ORM/SQLite, 2 workers", "ORM/SQLite, 2 workers, save_limit 250"), "",
               "> 1 (gain)"),
        Figure("6", "runs that did not succeed", [failed], "", "0", lambda v: v == 0),
    ]  # fmt: skip
    return figures
