"""`python -m tests.perf.profile_pipeline [embedded|scale-out] [events]`: bar 1's end-to-end
job under py-spy (web and worker processes sampled, subprocesses included), then the
functions with the most samples, inclusive and own, per side. Needs `py-spy` (pip) and
ptrace (root, or kernel.yama.ptrace_scope 0). The raw collapsed stacks stay in the printed
directory for a flame graph (https://github.com/brendangregg/FlameGraph).
"""

from __future__ import annotations

import collections
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

from tests.perf.bench_end_to_end import one_round
from tests.perf.stack import EMBEDDED, SCALE_OUT, Sandbox, Stack


def _record(pid: int, out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy")), "record",
         "--pid", str(pid), "--subprocesses", "--rate", "250", "--nonblocking",
         "--format", "raw", "--output", str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def _frame(frame: str) -> str:
    """`name (path/to/module.py:12)` -> `name (module.py)`."""
    name, _, where = frame.partition(" (")
    return f"{name} ({where.rsplit('/', 1)[-1].split(':')[0]})" if where else name


def top(raw: Path, count: int = 25) -> str:
    inclusive, own, total = collections.Counter(), collections.Counter(), 0
    for line in raw.read_text().splitlines():
        stack, _, samples = line.rpartition(" ")
        frames = [_frame(f) for f in stack.split(";")[1:]]  # the first is the process
        n = int(samples)
        total += n
        for frame in set(frames):
            inclusive[frame] += n
        if frames:
            own[frames[-1]] += n
    lines = [f"{total} samples; inclusive:"]
    lines += [f"  {n / total:6.1%}  {f}" for f, n in inclusive.most_common(count)]
    lines += ["own:"] + [f"  {n / total:6.1%}  {f}" for f, n in own.most_common(count)]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    config = SCALE_OUT if argv[:1] == ["scale-out"] else EMBEDDED
    events = int(argv[1]) if len(argv) > 1 else 2000
    workdir = Path(tempfile.mkdtemp(prefix="portal-profile-"))
    sandbox = Sandbox(workdir)
    stack = Stack(config, sandbox, workdir)
    bench = SimpleNamespace(seconds=lambda full: 2.0, repeats=1)
    try:
        stack.create().start_web()
        stack.start_workers(2)
        one_round(bench, stack, 50)  # warm-up
        spies = {side: _record(proc.pid, workdir / f"{side}.txt")
                 for side, proc in (("web", stack.web), ("worker", stack.workers))}  # fmt: skip
        time.sleep(1)
        result = one_round(bench, stack, events)
        for spy in spies.values():
            spy.send_signal(signal.SIGINT)
            spy.wait(timeout=30)
        print(f"{config.label}: {result}")
        for side in spies:
            print(f"\n== {side} ==\n{top(workdir / f'{side}.txt')}")
        print(f"\nraw stacks in {workdir}")
    finally:
        stack.destroy()
        sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
