"""HTTP load on loopback: closed-loop (as fast as it answers) and bounded-rate, plus a small
cookie-keeping session for pages.

Closed loop uses `wrk` when it is installed (`apt-get install -y wrk`), else a Python client
on threads; either way the compared variants of a figure go through the same client. The
bounded-rate client is Python: it sends request i at start + i / rate whatever the server
does, and times each answer from that scheduled moment, so a stalled server cannot hide its
queue (no coordinated omission).
"""

from __future__ import annotations

import http.client
import itertools
import json
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

WRK = shutil.which("wrk")


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict = field(default_factory=dict)
    body: bytes = b""


@dataclass
class Load:
    """What a load run measured: answers per second, failed answers, latency percentiles."""

    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p95_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def client_name() -> str:
    return "wrk" if WRK else "python threads (wrk not installed)"


def closed_loop(host: tuple[str, int], requests: list[Request], seconds: float,
                connections: int = 12) -> Load:  # fmt: skip
    """Keep `connections` requests in flight for `seconds`, cycling through `requests`."""
    if WRK:
        return _wrk(host, requests, seconds, connections)
    return _python_closed_loop(host, requests, seconds, connections)


def _lua_string(data: bytes | str) -> str:
    text = data.decode() if isinstance(data, bytes) else data
    return f"[==[{text}]==]"


def _wrk(host, requests: list[Request], seconds: float, connections: int) -> Load:
    lines = ["local reqs = {}"]
    for req in requests:
        headers = ", ".join(f'["{k}"] = {_lua_string(v)}' for k, v in req.headers.items())
        body = _lua_string(req.body) if req.body else "nil"
        lines.append(
            f'reqs[#reqs + 1] = wrk.format("{req.method}", "{req.path}", {{{headers}}}, {body})'
        )
    lines.append(_WRK_TAIL)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write("\n".join(lines))
    try:
        done = subprocess.run(
            [WRK, "-t", "1", "-c", str(connections), "-d", f"{seconds:.0f}s", "--timeout", "10s",
             "-s", script.name, f"http://{host[0]}:{host[1]}"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
    finally:
        Path(script.name).unlink()
    line = next(x for x in done.stdout.splitlines() if x.startswith("WRKJSON "))
    data = json.loads(line.split(" ", 1)[1])
    errors = sum(data[k] for k in ("connect", "read", "write", "status", "timeout"))
    return Load(data["requests"], data["duration_us"] / 1e6, errors,
                data["p50_us"] / 1000, data["p95_us"] / 1000)  # fmt: skip


_WRK_TAIL = """
local n = 0
request = function()
  n = n + 1
  return reqs[(n - 1) % #reqs + 1]
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d,"p50_us":%d,"p95_us":%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95)))
end
"""


def _send(conn: http.client.HTTPConnection, req: Request) -> int:
    conn.request(req.method, req.path, body=req.body or None, headers=req.headers)
    response = conn.getresponse()
    response.read()
    return response.status


def run_threads(target, count: int) -> None:
    """`target` in `count` threads at once; returns when all have ended."""
    threads = [threading.Thread(target=target) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _python_closed_loop(host, requests: list[Request], seconds: float, connections: int) -> Load:
    counter, lock = itertools.count(), threading.Lock()
    latencies: list[float] = []
    errors = [0]
    stop_at = time.monotonic() + seconds

    def loop() -> None:
        conn = http.client.HTTPConnection(*host, timeout=10)
        while time.monotonic() < stop_at:
            with lock:
                req = requests[next(counter) % len(requests)]
            started = time.monotonic()
            try:
                ok = _send(conn, req) < 400
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(*host, timeout=10)
                ok = False
            with lock:
                latencies.append(time.monotonic() - started)
                errors[0] += not ok
        conn.close()

    begun = time.monotonic()
    run_threads(loop, connections)
    elapsed = time.monotonic() - begun
    return Load(len(latencies), elapsed, errors[0], percentile(latencies, 50) * 1000,
                percentile(latencies, 95) * 1000)  # fmt: skip


@dataclass
class Paced:
    """A bounded-rate run: every answer's latency from its scheduled send time."""

    latencies_ms: list[float]
    statuses: dict[int, int]
    started: float  # time.time() of request 0

    def window(self, first: int, last: int) -> list[float]:
        return self.latencies_ms[first:last]


def bounded_rate(host, make_request, rate: float, seconds: float, threads: int = 32) -> Paced:
    """Send `make_request(i)` at `rate` per second for `seconds`; never waits for answers
    before sending the next (up to `threads` in flight)."""
    total = int(rate * seconds)
    latencies: list[float] = [float("nan")] * total
    statuses: dict[int, int] = {}
    lock, local = threading.Lock(), threading.local()
    start = time.monotonic() + 0.2

    def one(i: int) -> None:
        due = start + i / rate
        conn = getattr(local, "conn", None) or http.client.HTTPConnection(*host, timeout=30)
        local.conn = conn
        try:
            status = _send(conn, make_request(i))
        except (OSError, http.client.HTTPException):
            local.conn = None
            conn.close()
            status = 0
        latencies[i] = (time.monotonic() - due) * 1000
        with lock:
            statuses[status] = statuses.get(status, 0) + 1

    wall = time.time() + 0.2
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for i in range(total):
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(one, i)
    return Paced(latencies, statuses, wall)


class Session:
    """A browser-like session on one keep-alive connection: cookies, CSRF, timing."""

    def __init__(self, host: tuple[str, int], source: str | None = None):
        self.host = host
        self.source = (source, 0) if source else None
        self.cookies: dict[str, str] = {}
        self.conn = self._connect()

    def _connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(*self.host, timeout=30, source_address=self.source)

    def request(self, method: str, path: str, form: dict | None = None):
        """(status, headers, body, seconds)."""
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            form = {**form, "csrfmiddlewaretoken": self.cookies.get("csrftoken", "")}
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        except (OSError, http.client.HTTPException):  # the server closed the kept-alive socket
            self.conn.close()
            self.conn = self._connect()
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        data = response.read()
        elapsed = time.perf_counter() - started
        for value in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, response.headers, data, elapsed

    def close(self) -> None:
        self.conn.close()


def median_spread(values: list[float]) -> tuple[float, float, float]:
    return statistics.median(values), min(values), max(values)
