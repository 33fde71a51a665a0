"""Item 4: list pages with a large workspace (`manage.py perf_data`) against the bare view.

The owner (the payer for "To pay") logs in through the login form and keeps the session
cookie; requests alternate between `/healthz/` and each list page on one kept-alive
connection, one at a time. Per round, each page's p95 answer time is divided by the bare
view's; the rows a page renders (`<tr>` in its table body) are counted too.
"""

from __future__ import annotations

import re

from tests.perf.client import Session, percentile
from tests.perf.report import Figure

LABELS = {
    "contact_list": "contacts", "workflow_list": "workflows", "run_list": "runs",
    "stripe_event_list": "events", "payment_list": "payments", "invoice_list": "invoices",
    "work_item_list": "work items",
}  # fmt: skip
SIZES = ["--runs", "10000", "--step-runs", "100000", "--payments", "10000"]
QUICK_SIZES = ["--runs", "1000", "--step-runs", "10000", "--payments", "1000"]


def login(stack, username: str, password: str) -> Session:
    session = Session(stack.host)
    session.request("GET", "/accounts/login/")
    status, headers, _, _ = session.request(
        "POST", "/accounts/login/", {"username": username, "password": password}
    )
    if status != 302 or "sessionid" not in session.cookies:
        raise RuntimeError(f"{username} could not log in ({status})")
    return session


def rows(html: bytes) -> int:
    bodies = re.findall(rb"<tbody.*?</tbody>", html, re.S)
    return sum(body.count(b"<tr") for body in bodies)


def load(bench, stack) -> str:
    """Generate the data (small with --quick); returns the password the command printed."""
    sizes = (
        ["--runs", "1000", "--step-runs", "10000", "--payments", "1000"] if bench.quick else SIZES
    )
    output = stack.manage("perf_data", "--workspace", "perf", *sizes)
    return re.search(r"password (\S+?):", output).group(1)


def run(bench) -> list[Figure]:
    figures = []
    for stack in bench.stacks:
        figures += measure(bench, stack, load(bench, stack))
    return figures


def measure(bench, stack, password: str) -> list[Figure]:
    urls = stack.ops("pages", workspace="perf")
    owner, payer = login(stack, "perf-owner", password), login(stack, "perf-payer", password)
    bare = Session(stack.host)

    def get(name: str):
        session = payer if name == "work_item_list" else owner
        status, _, body, seconds = session.request("GET", urls[name])
        if status != 200:
            raise RuntimeError(f"{urls[name]} answered {status}")
        return body, seconds * 1000

    for name in urls:  # warm-up
        get(name)
        bare.request("GET", "/healthz/")
    ratios = {name: [] for name in urls}
    most_rows = {name: rows(get(name)[0]) for name in urls}
    for _ in range(bench.repeats):
        times = {name: [] for name in urls}
        bare_times = []
        for _ in range(bench.count(20)):
            for name in urls:
                bare_times.append(bare.request("GET", "/healthz/")[3] * 1000)
                times[name].append(get(name)[1])
        for name in urls:
            ratios[name].append(percentile(times[name], 95) / percentile(bare_times, 95))
    label = stack.config.label
    figures = []
    for name in urls:
        figures += [
            Figure("4", f"p95 {LABELS[name]} page / bare view, {label}", ratios[name], "",
                   "<= 5", lambda v: v <= 5),
            Figure("4", f"rows rendered, {LABELS[name]}, {label}", [most_rows[name]], "",
                   "<= 100", lambda v: v <= 100),
        ]  # fmt: skip
    return figures
