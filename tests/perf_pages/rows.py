"""Counting what a list page renders."""

from __future__ import annotations

import re


def table_rows(html: str) -> int:
    """The rows in the body of the page's first table."""
    body = re.search(r"<tbody>(.*?)</tbody>", html, re.S)
    assert body, "no table on the page"
    return body.group(1).count("<tr")
