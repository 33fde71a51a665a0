"""Every list route: ``ending_before`` and Stripe's ``limit`` of 1..100 (``list_handler``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web
from localstripe.errors import UserError
from localstripe.resources import List

from stripe_sandbox.errors import json_response
from stripe_sandbox.ls_server import unflatten_data

MAX_LIMIT = 100


class _EndingBeforeList(List):
    """A page ending before an object: ``has_more`` tells whether newer objects remain."""

    @property
    def has_more(self) -> bool:
        self._compute_starting_pos()
        return self._starting_pos > 0


def check_limit(data: dict[str, Any]) -> None:
    limit = data.get("limit")
    if limit is None:
        return
    try:
        value = int(limit)
    except (TypeError, ValueError):
        raise UserError(400, f"Invalid integer: {limit}", {"param": "limit"}) from None
    if not 1 <= value <= MAX_LIMIT:
        raise UserError(
            400,
            f"This value must be {'greater' if value < 1 else 'less'} than or equal to "
            f"{1 if value < 1 else MAX_LIMIT} (it currently is '{value}').",
            {"param": "limit"},
        )


def paginate(li: List, ending_before: Any) -> List:
    """Apply ``ending_before`` to a localstripe list (already newest first)."""
    if ending_before is None:
        return li
    if li._starting_after is not None:
        raise UserError(
            400,
            "You may only specify one of these parameters: starting_after, ending_before.",
        )
    index = next((i for i, o in enumerate(li._list) if o.id == ending_before), None)
    if index is None:
        raise UserError(400, f"No such object: '{ending_before}'", {"param": "ending_before"})
    li._list = li._list[:index]
    li._starting_pos = max(0, index - li._limit)
    li.__class__ = _EndingBeforeList
    return li


def list_handler(cls: Any, url: str) -> Callable[[web.Request], Any]:
    """``GET <url>``: localstripe's list plus ``ending_before`` and the limit check."""

    async def handler(request: web.Request) -> web.Response:
        data = unflatten_data(request.query) or {}
        expand = data.pop("expand", None)
        ending_before = data.pop("ending_before", None)
        check_limit(data)
        li = paginate(cls._api_list_all(url, **data), ending_before)
        return json_response(li._export(expand=expand))

    return handler
