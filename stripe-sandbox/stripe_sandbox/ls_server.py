"""localstripe's ``server`` module, imported quietly.

Importing it builds localstripe's own aiohttp app (unused here) with synchronous handlers, which
aiohttp reports with one DeprecationWarning per route; the sandbox only reuses its helpers.
"""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from localstripe import server

add_cors_headers = server.add_cors_headers
api_create = server.api_create
api_delete = server.api_delete
api_extra = server.api_extra
api_list_all = server.api_list_all
api_retrieve = server.api_retrieve
api_update = server.api_update
get_post_data = server.get_post_data
localstripe_js = server.localstripe_js
unflatten_data = server.unflatten_data
