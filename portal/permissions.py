"""The one permissions backend: `user.has_perm("stripe=pay", workspace_or_object)`."""

from __future__ import annotations

from django.contrib.auth.backends import BaseBackend

from portal import perms
from portal.models import Membership, Workspace


def workspace_of(obj) -> Workspace | None:
    """The workspace an object belongs to: itself, or its `workspace` attribute."""
    if isinstance(obj, Workspace):
        return obj
    return getattr(obj, "workspace", None)


class WorkspacePermissionBackend(BaseBackend):
    """Answers permission strings per workspace from the roles of the user's membership.

    Without an object there is no workspace, so the answer is no. Results are cached on the
    user object for the length of a request.
    """

    def get_workspace_permissions(self, user_obj, workspace: Workspace) -> frozenset[str]:
        if not user_obj.is_active or user_obj.is_anonymous:
            return frozenset()
        cache = user_obj.__dict__.setdefault("_workspace_perm_cache", {})
        if workspace.pk not in cache:
            codes: set[str] = set()
            rows = Membership.objects.filter(user=user_obj, workspace=workspace).values_list(
                "roles__permissions", flat=True
            )
            for role_perms in rows:
                codes.update(role_perms or [])
            cache[workspace.pk] = perms.expand(codes)
        return cache[workspace.pk]

    def has_perm(self, user_obj, perm: str, obj=None) -> bool:
        if perm not in perms.ALL:
            return False
        workspace = workspace_of(obj)
        if workspace is None:
            return False
        return perm in self.get_workspace_permissions(user_obj, workspace)


def workspace_permissions(user, workspace: Workspace) -> frozenset[str]:
    """Every permission the user holds in the workspace (superusers hold all)."""
    if user.is_active and user.is_superuser:
        return perms.ALL
    return WorkspacePermissionBackend().get_workspace_permissions(user, workspace)
