"""``GET /v1/customers/search``: Stripe's search syntax for ``email``, ``name``, ``phone``,
``description`` and ``metadata['key']`` with ``:`` (exact, case-insensitive) and ``~``
(substring, case-insensitive, at least 3 characters), ``-`` negation, joined by ``AND`` or
``OR`` (not both); ``page`` is the ``next_page`` cursor of the previous page.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from aiohttp import web
from localstripe.errors import UserError

from stripe_sandbox.errors import json_response
from stripe_sandbox.ls_server import unflatten_data
from stripe_sandbox.pagination import check_limit
from stripe_sandbox.store import STORE

_TERM = re.compile(
    r"""\s*(?P<neg>-?)(?P<field>[a-z_]+(?:\[(?:'[^']*'|"[^"]*")\])?)\s*(?P<op>[:~])\s*"""
    r"""(?:'(?P<sq>(?:[^'\\]|\\.)*)'|"(?P<dq>(?:[^"\\]|\\.)*)")\s*"""
)
_JOIN = re.compile(r"(AND|OR)\s+")
CUSTOMER_SEARCH_FIELDS = ("email", "name", "phone", "description")


def parse_query(query: str, fields: tuple[str, ...]) -> tuple[str, list[tuple]]:
    """Parse a search query into (``AND``/``OR``, [(negated, field, op, value)])."""
    terms: list[tuple] = []
    joins: set[str] = set()
    pos = 0
    while True:
        match = _TERM.match(query, pos)
        if match is None:
            raise UserError(
                400,
                f"We were unable to parse your search query. Try using the format "
                f'`metadata["key"]:"value"` to query for metadata or key:"value" to query '
                f"for other fields. (near position {pos}: {query[pos : pos + 20]!r})",
                {"param": "query"},
            )
        field = match["field"]
        base = field.split("[", 1)[0]
        if base not in fields and base != "metadata":
            raise UserError(
                400,
                f"Field `{base}` is an unsupported search field for resource `customers`.",
                {"param": "query"},
            )
        value = (match["sq"] if match["sq"] is not None else match["dq"]).replace("\\", "")
        if match["op"] == "~" and len(value) < 3:
            raise UserError(
                400,
                "Substring search (`~`) requires at least 3 characters.",
                {"param": "query"},
            )
        terms.append((bool(match["neg"]), field, match["op"], value))
        pos = match.end()
        if pos >= len(query):
            break
        join = _JOIN.match(query, pos)
        if join is None:
            raise UserError(400, "We were unable to parse your search query.", {"param": "query"})
        joins.add(join[1])
        pos = join.end()
    if len(joins) > 1:
        raise UserError(
            400,
            "Queries can use either AND or OR, not both, at the top level.",
            {"param": "query"},
        )
    return (joins.pop() if joins else "AND"), terms


def _field_value(obj: Any, field: str) -> Any:
    if field.startswith("metadata["):
        return (getattr(obj, "metadata", None) or {}).get(field[10:-2])
    return getattr(obj, field, None)


def _matches(obj: Any, term: tuple) -> bool:
    negated, field, op, value = term
    actual = _field_value(obj, field)
    if actual is None:
        hit = False
    elif op == ":":
        hit = str(actual).lower() == value.lower()
    else:
        hit = value.lower() in str(actual).lower()
    return hit != negated


def _encode_page(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _decode_page(page: Any) -> int:
    try:
        text = base64.urlsafe_b64decode(str(page).encode()).decode()
        return max(0, int(text.removeprefix("offset:")))
    except (ValueError, UnicodeDecodeError):
        raise UserError(400, f"Invalid page: {page}", {"param": "page"}) from None


async def search_customers(request: web.Request) -> web.Response:
    """``GET /v1/customers/search?query=&limit=&page=``."""
    data = unflatten_data(request.query) or {}
    query = data.get("query")
    if not isinstance(query, str) or not query.strip():
        raise UserError(400, "Missing required param: query.", {"param": "query"})
    check_limit(data)
    limit = int(data.get("limit") or 10)
    offset = _decode_page(data["page"]) if data.get("page") else 0
    join, terms = parse_query(query.strip(), CUSTOMER_SEARCH_FIELDS)
    combine = all if join == "AND" else any
    found = [
        obj
        for key, obj in STORE.items()
        if key.startswith("customer:") and combine(_matches(obj, t) for t in terms)
    ]
    found.reverse()  # newest first
    page = found[offset : offset + limit]
    has_more = len(found) > offset + limit
    expand = data.get("expand")
    return json_response(
        {
            "object": "search_result",
            "data": [c._export(expand=expand) for c in page],
            "has_more": has_more,
            "next_page": _encode_page(offset + limit) if has_more else None,
            "url": "/v1/customers/search",
        }
    )
