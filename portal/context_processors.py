from __future__ import annotations

from portal.access import member_workspaces


def workspaces(request) -> dict:
    """The workspace switcher's list, the current workspace and what the user may do in it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "my_workspaces": member_workspaces(user).only("name", "slug"),
        "workspace": getattr(request, "workspace", None),
        "ws_perms": getattr(request, "workspace_perms", frozenset()),
    }
