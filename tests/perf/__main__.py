"""`python -m tests.perf [--quick] [--only 1,3]`: run the benchmarks, print the table.

Starts the Stripe sandbox and both configurations (SQLite + ORM broker, PostgreSQL + Redis)
on fresh databases, runs the items (7, memory, is measured within 2), and prints every figure
with its bar. See tests/perf/README.md.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tests.perf.client import client_name
from tests.perf.report import Figure, table
from tests.perf.stack import EMBEDDED, SCALE_OUT, Sandbox, Stack

# By the bars of issue 19 (tests/perf/README.md); memory (7) is measured within 2.
ITEMS = {
    "1": "bench_end_to_end",
    "2": "bench_webhooks",
    "3": "bench_trigger_latency",
    "4": "bench_pages",
    "5": "bench_stripe_limits",
    "6": "bench_throughput",
}


@dataclass
class Bench:
    stacks: list[Stack]
    sandbox: Sandbox
    quick: bool
    repeats: int

    def seconds(self, full: float) -> float:
        """A measuring window: `full` seconds, a quarter of it (at least 2) with --quick."""
        return max(2.0, full / 4) if self.quick else full

    def count(self, full: int) -> int:
        return max(10, full // 4) if self.quick else full

    def stack(self, name: str) -> Stack:
        return next(s for s in self.stacks if s.config.name == name)


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.perf", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short windows, for development")
    parser.add_argument("--only", default=",".join(ITEMS), help="items to run, e.g. 1,3")
    parser.add_argument("--repeats", type=int, default=3, help="rounds per figure (>= 3)")
    args = parser.parse_args(argv)
    chosen = [item.strip() for item in args.only.split(",") if item.strip()]
    if unknown := set(chosen) - set(ITEMS):
        parser.error(f"unknown items {sorted(unknown)} (7, memory, is measured within 2)")

    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    say(f"Logs and databases in {workdir}; load client: {client_name()}")
    sandbox = Sandbox(workdir)
    stacks = [Stack(config, sandbox, workdir) for config in (EMBEDDED, SCALE_OUT)]
    figures: list[Figure] = []
    try:
        say("Migrating fresh databases and collecting static files")
        stacks[0].manage("collectstatic", "--no-input", "-v", "0")
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda stack: stack.create().start_web(), stacks))
        bench = Bench(stacks, sandbox, args.quick, max(args.repeats, 3))
        for item in chosen:
            say(f"Item {item}: {ITEMS[item]}")
            module = importlib.import_module(f"tests.perf.{ITEMS[item]}")
            item_started = time.monotonic()
            try:
                figures += module.run(bench)
            except Exception:  # noqa: BLE001 - one broken item must not hide the others
                traceback.print_exc()
                figures.append(Figure(item, f"{ITEMS[item]} crashed (see above)", [], bar="runs",
                                      passes=lambda v: False))  # fmt: skip
            for stack in stacks:
                stack.stop_workers()
            say(f"Item {item} took {time.monotonic() - item_started:.0f} s")
    finally:
        for stack in stacks:
            stack.destroy()
        sandbox.stop()
    minutes = (time.monotonic() - started) / 60
    print(f"\nFigures ({'quick, ' if args.quick else ''}{minutes:.1f} min, logs in {workdir}):\n")
    print(table(figures), flush=True)
    return 0 if all(f.result in ("pass", "info") for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
