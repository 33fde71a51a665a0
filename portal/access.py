"""Access rules for views: one helper per rule.

A user who is not a member of a workspace gets 404 for everything in it (we do not confirm it
exists); a member without the permission gets 403. Where the workspace requires two-factor
sign-in of members who can move money or manage it, such a member gets none of its pages
before giving a code (portal.middleware turns TwoFactorRequired into the set-up or code page).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django_htmx.middleware import HtmxDetails

from portal.models import Workspace
from portal.money import locale_activate
from portal.permissions import workspace_permissions
from portal.two_factor import two_factor_enabled, two_factor_required


class TwoFactorRequired(Exception):
    """The workspace requires two-factor sign-in of this member, who has not given a code in
    this session: `enrolled` says whether to ask for one or to set it up first."""

    def __init__(self, workspace: Workspace, *, enrolled: bool):
        super().__init__(f"{workspace.slug} requires two-factor sign-in.")
        self.workspace = workspace
        self.enrolled = enrolled


class PortalRequest(HttpRequest):
    """The request as the portal's views see it."""

    user: AbstractBaseUser
    htmx: HtmxDetails
    workspace: Workspace
    workspace_perms: frozenset[str]


def member_workspaces(user):
    """The workspaces a user may open."""
    if user.is_superuser:
        return Workspace.objects.all()
    return Workspace.objects.filter(memberships__user=user).distinct()


def get_workspace_for(
    request: HttpRequest, slug: str, perm: str | tuple[str, ...] | None = None
) -> Workspace:
    """The workspace named by `slug` if the user is a member (404) and holds `perm` (403);
    a tuple of permissions needs every one of them."""
    try:
        workspace = member_workspaces(request.user).get(slug=slug)
    except Workspace.DoesNotExist:
        raise Http404("No such workspace.") from None
    granted = workspace_permissions(request.user, workspace)
    needed = (perm,) if isinstance(perm, str) else perm or ()
    if missing := [code for code in needed if code not in granted]:
        raise PermissionDenied(f"This page needs the permission {' and '.join(missing)}.")
    if two_factor_required(workspace, granted) and not _verified(request.user):
        raise TwoFactorRequired(workspace, enrolled=two_factor_enabled(request.user))
    request.workspace = workspace
    request.workspace_perms = granted
    # Amounts on its pages read in its locale (the middleware restores the default after).
    locale_activate(workspace.locale)
    return workspace


def _verified(user) -> bool:
    """Whether this session gave a two-factor code (django-otp's OTPMiddleware says)."""
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified and is_verified())


def workspace_view(*required: str) -> Callable:
    """Decorate a view under `w/<ws>/`: log-in required, then `get_workspace_for(required)`
    (every permission named is needed; none: membership is enough).

    The view receives the request with `request.workspace` set; the `ws` URL argument is consumed.
    """

    def decorator(view: Callable) -> Callable:
        @login_required
        @functools.wraps(view)
        def wrapper(request: HttpRequest, ws: str, *args, **kwargs):
            get_workspace_for(request, ws, required)
            return view(request, *args, **kwargs)

        # Read by the access tests: one code, a tuple of codes, or None.
        wrapper.required_permission = required[0] if len(required) == 1 else required or None
        return wrapper

    return decorator


def require_perm(request: PortalRequest, perm: str) -> None:
    """403 unless the user holds `perm` in the current workspace (for a second, stricter rule)."""
    if perm not in request.workspace_perms:
        raise PermissionDenied(f"This action needs the permission {perm}.")
