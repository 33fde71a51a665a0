"""The log-in throttle (django-axes) as the first authentication backend."""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend


class LoginThrottleBackend(AxesStandaloneBackend):
    """Refuses a locked-out username + address before any password is checked.

    Every web log-in (the login view, the admin) passes the request. A call without one (the
    test client's `login()`, a shell) has no client address to lock, so it is let through to
    the next backend instead of raising, as axes does.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
