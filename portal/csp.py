"""A Content-Security-Policy on every HTML page: the portal's own origin only.

Pages that load Stripe.js set a wider policy themselves (`billing.views.public.with_csp`);
a response that already carries one keeps it.
"""

from __future__ import annotations

DEFAULT_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "frame-src 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'self'",
        "object-src 'none'",
    ]
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        content_type = response.get("Content-Type", "")
        if "Content-Security-Policy" in response or not content_type.startswith("text/html"):
            return response
        response["Content-Security-Policy"] = DEFAULT_POLICY
        return response
