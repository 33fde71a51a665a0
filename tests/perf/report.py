"""Figures and the table they are printed in."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Figure:
    """One measured figure: the median of its repeats and their spread, against its bar.

    `passes` says whether a value reaches the bar (None: printed for information)."""

    item: str
    what: str
    values: list[float]
    unit: str = ""
    bar: str = ""
    passes: Callable[[float], bool] | None = None
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.values) if self.values else float("nan")

    @property
    def result(self) -> str:
        if self.passes is None:
            return "info"
        if not self.values:
            return "not measured"
        return "pass" if self.passes(self.median) else "falls short"


def _number(value: float) -> str:
    if value != value:  # NaN
        return "-"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def table(figures: list[Figure]) -> str:
    """A Markdown table: item, figure, median, spread (min-max, n), bar, result."""
    rows = [("item", "figure", "median", "spread (min-max, n)", "bar", "result")]
    for f in figures:
        spread = (
            f"{_number(min(f.values))}-{_number(max(f.values))}, n={len(f.values)}"
            if f.values
            else "-"
        )
        median = f"{_number(f.median)} {f.unit}".strip()
        what = f"{f.what} ({f.note})" if f.note else f.what
        rows.append((f.item, what, median, spread, f.bar or "-", f.result))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
             for row in rows]  # fmt: skip
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)
