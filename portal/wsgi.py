"""The WSGI application gunicorn and runserver serve: Django, behind a check of the headers
that Django cannot make itself.

Django parses the Content-Type header while it builds the request, before any middleware
runs, and two spellings anyone can send make that parse raise ValueError, which no middleware
or error page can catch, so the server answered 500: a parameter in its percent-encoded form
naming an unknown charset (``text/plain; a*=bogus''x``) and a charset holding a NUL
(``charset*=utf-8''utf-8%00``). And a header value holding a control character (but tab) is
malformed: gunicorn refuses it before it reaches us, another server may not, and a NUL from a
header would reach the database (log-in attempts keep the User-Agent), which PostgreSQL
refuses. Both are answered 400 here.
"""

from __future__ import annotations

import codecs
import os
import re

from django.core.wsgi import get_wsgi_application
from django.utils.http import parse_header_parameters

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def _header(key: str) -> str:
    return key.removeprefix("HTTP_").replace("_", "-").title()


def malformed_request(environ: dict) -> str | None:
    """Why `environ` is no request to hand to Django (None when it is one)."""
    for key, value in environ.items():
        is_header = key.startswith("HTTP_") or key in ("CONTENT_TYPE", "CONTENT_LENGTH")
        if is_header and isinstance(value, str) and CONTROL.search(value):
            return f"Malformed {_header(key)} header."
    # The parse of HttpRequest._set_content_type_params, which lets an unknown charset pass
    # (LookupError) but not a ValueError.
    try:
        _, params = parse_header_parameters(environ.get("CONTENT_TYPE", ""))
        if "charset" in params:
            codecs.lookup(params["charset"])
    except LookupError:
        pass
    except ValueError:
        return "Malformed Content-Type header."
    return None


class RefuseMalformed:
    """A WSGI application answering 400 to what ``malformed_request`` names, else `app`."""

    def __init__(self, app) -> None:
        self.app = app

    def __call__(self, environ, start_response):
        reason = malformed_request(environ)
        if reason is None:
            return self.app(environ, start_response)
        body = f"{reason}\n".encode()
        headers = [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("X-Content-Type-Options", "nosniff"),
        ]
        start_response("400 Bad Request", headers)
        return [body]


application = RefuseMalformed(get_wsgi_application())
