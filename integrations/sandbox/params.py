"""Reading a request's Stripe parameters once (form-encoded, JSON or query string)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from integrations.sandbox import request_keys as keys
from integrations.sandbox.ls_server import get_post_data, unflatten_data


async def read_params(request: web.Request) -> dict[str, Any]:
    """The request's parameters as nested dicts/lists, as localstripe parses them.

    POST bodies may be form-encoded (stripe-python) or JSON (localstripe's fake Stripe.js); other
    methods use the query string. The result is cached on the request; aiohttp caches the body,
    so localstripe's handlers can still read it afterwards.
    """
    if keys.PARAMS not in request:
        if request.method == "POST":
            data = await get_post_data(request, remove_auth=False)
        else:
            data = unflatten_data(request.query)
        request[keys.PARAMS] = dict(data) if data else {}
    return request[keys.PARAMS]
