"""The Content-Security-Policy of a page that loads Stripe.js or starts Stripe Connect.

Every page gets the portal-only policy of settings.CONTENT_SECURITY_POLICY (django-csp's
middleware). A view whose page loads Stripe.js is decorated with `stripe_js_csp`: its policy
also allows Stripe.js's hosts, and the configured Stripe.js and API origins when they are not
Stripe's (the sandbox in development and tests). A view whose page holds the "Connect with
Stripe" form is decorated with `stripe_connect_csp`. Those come from settings, so the sources
are worked out for each request and handed to django-csp's own decorators.
"""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

from csp.constants import SELF
from csp.decorators import csp_replace, csp_update
from django.conf import settings

STRIPE_JS = "https://js.stripe.com"
STRIPE_API = "https://api.stripe.com"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def _configured_origins() -> list[str]:
    """STRIPE_JS_URL's and STRIPE_API_BASE's origins, when they are not Stripe's own."""
    extra = {_origin(settings.STRIPE_JS_URL), _origin(settings.STRIPE_API_BASE)}
    return sorted(extra - {"", STRIPE_JS, STRIPE_API})


def stripe_js_directives() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(added to the portal's directives, replacing them): what Stripe.js needs to load, open
    its frames (3-D Secure, card fields) and call the API."""
    extra = _configured_origins()
    update = {
        "script-src": [STRIPE_JS, *extra],
        "connect-src": [STRIPE_API, *extra],
        "img-src": ["https://*.stripe.com"],
    }
    replace = {"frame-src": [SELF, STRIPE_JS, "https://hooks.stripe.com", *extra]}  # was 'none'
    return update, replace


def stripe_js_csp(view):
    """The view's responses allow Stripe.js (see the module's docstring)."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        update, replace = stripe_js_directives()
        return csp_update(update)(csp_replace(replace)(view))(request, *args, **kwargs)

    return wrapper


def stripe_connect_origin() -> str:
    """The origin of Stripe Connect's authorize page (STRIPE_CONNECT_BASE's: Stripe's own, or
    the sandbox's in development and tests)."""
    return _origin(settings.STRIPE_CONNECT_BASE)


def stripe_connect_csp(view):
    """The view's page may post the "Connect with Stripe" form: its `form-action` also allows
    Connect's origin, as browsers check the redirect that follows a form's POST (here
    oauth_start's, to the authorize page) against the `form-action` of the page that posted
    it. Only while Connect is configured (STRIPE_CONNECT_CLIENT_ID), as the form is shown only
    then."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        origin = stripe_connect_origin()
        if not (settings.STRIPE_CONNECT_CLIENT_ID and origin):
            return view(request, *args, **kwargs)
        return csp_update({"form-action": [origin]})(view)(request, *args, **kwargs)

    return wrapper
