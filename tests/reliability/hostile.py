"""Shared pieces of the hostile-input properties: hypothesis settings, strategies for what an
attacker or a confused person sends, a fresh client address per example (the public pages
are rate limited per address), and the check that an error is shown next to its field."""

from __future__ import annotations

import itertools
import os

from django.core.exceptions import NON_FIELD_ERRORS
from django.utils.html import escape
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Examples per property: RELIABILITY_HOSTILE, 40 by default, 120 in CI (.ci/run sets it).
EXAMPLES = int(os.environ.get("RELIABILITY_HOSTILE", "40"))
FULL = 120

HOSTILE = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def examples(full: int) -> int:
    """A property's own count, `full` in CI, scaled down with RELIABILITY_HOSTILE locally."""
    return max(10, full * EXAMPLES // FULL)


# Text a browser can send: any unicode but surrogates (they cannot be encoded as UTF-8).
text = st.text(st.characters(blacklist_categories=["Cs"]), max_size=60)
big_text = st.integers(min_value=200, max_value=30_000).map(lambda n: "x" * n)
amounts = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["", "0", "-1", "0.001", "1e9", "NaN", "１２", "49,99", "9" * 400]),
)
values = st.one_of(text, big_text, amounts, st.sampled_from(["\x00", "a\x00b", "<script>"]))
emails = st.one_of(
    st.just("jane@example.com"),
    st.emails().map(str),
    values,
    st.sampled_from([f"{'a' * 64}@{'b' * 63}.{'c' * 63}.{'d' * 58}.com", "a@b", "@"]),
)

_addresses = itertools.count(1)


def fresh_address() -> str:
    """A client address no example used before (198.18.0.0/15 is for benchmarking)."""
    n = next(_addresses)
    return f"198.18.{n // 250 % 250}.{n % 250 + 1}"


def assert_errors_next_to_fields(html: str, errors: dict) -> None:
    """Each field with errors is marked `has-error`, and its messages are shown right before
    its input (inside the field's box, or the alert just above a slot picker)."""
    assert errors, "a refused submission says what is wrong"
    for name, messages in errors.items():
        if name == NON_FIELD_ERRORS:  # about the whole form: in the alert at its top
            alert = html.find('role="alert"')
            assert alert != -1 and all(escape(m) in html[alert:] for m in messages), messages
            continue
        position = html.find(f'name="{name}"')
        assert position != -1, f"the field {name} with an error is on the page"
        box = html.rfind('class="field', 0, position)
        assert box != -1 and "has-error" in html[box : html.find(">", box)], name
        shown = html[max(0, box - 400) : position]
        for message in messages:
            assert escape(message) in shown, (name, message)


def one_field_changed(good: dict, hostile: st.SearchStrategy = values) -> st.SearchStrategy:
    """`good` with one field (or an unknown one) set to a hostile value, or left out."""
    keys = st.sampled_from([*good, "unknown_field"])
    changed = st.tuples(keys, hostile).map(lambda kv: {**good, kv[0]: kv[1]})
    dropped = keys.map(lambda key: {k: v for k, v in good.items() if k != key})
    return st.one_of(changed, dropped)
