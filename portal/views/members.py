from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal import perms
from portal.access import PortalRequest, workspace_view
from portal.audit import audit_by
from portal.forms import MemberForm
from portal.pagination import paginate
from portal.services import (
    invitation_resend,
    invitation_revoke,
    invitation_send,
    membership_remove,
    membership_update,
)


@workspace_view(perms.WORKSPACE_MANAGE)
@require_GET
def member_list(request: PortalRequest):
    memberships = (
        request.workspace.memberships.select_related("user", "org_unit")
        .prefetch_related("roles")
        .order_by("user__email")
    )
    # Invited people are shown by the address typed, never by an account's name: until they
    # accept, the workspace learns nothing about them.
    invitations = (
        request.workspace.invitations.pending()
        .select_related("org_unit")
        .prefetch_related("roles")
        .order_by("email")
    )
    context = {"page": paginate(request, memberships), "invitations": invitations}
    return render(request, "portal/members/list.html", context)


@workspace_view(perms.WORKSPACE_MANAGE)
@require_http_methods(["GET", "POST"])
def member_add(request: PortalRequest):
    """Invite someone by e-mail; they become a member only by accepting."""
    form = MemberForm(request.POST or None, workspace=request.workspace)
    if request.method == "POST" and form.is_valid():
        try:
            invitation, created = invitation_send(
                workspace=request.workspace,
                email=form.cleaned_data["email"],
                roles=form.cleaned_data["roles"],
                org_unit=form.cleaned_data["org_unit"],
                invited_by=request.user,
                address=audit_by(request)["address"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            sent = "Invitation sent to" if created else "Invitation updated and sent again to"
            messages.success(request, f"{sent} {invitation.email}.")
            return redirect("member_list", request.workspace.slug)
    return render(request, "portal/members/edit.html", {"form": form})


def _pending_invitation(request: PortalRequest, invitation_uuid):
    return get_object_or_404(request.workspace.invitations.pending(), uuid=invitation_uuid)


@workspace_view(perms.WORKSPACE_MANAGE)
@require_POST
def member_invitation_resend(request: PortalRequest, invitation_uuid):
    invitation = _pending_invitation(request, invitation_uuid)
    try:
        invitation_resend(invitation=invitation, **audit_by(request))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Invitation sent again to {invitation.email}.")
    return redirect("member_list", request.workspace.slug)


@workspace_view(perms.WORKSPACE_MANAGE)
@require_http_methods(["GET", "POST"])
def member_invitation_revoke(request: PortalRequest, invitation_uuid):
    """GET asks for confirmation; POST withdraws the invitation (its link stops working)."""
    invitation = _pending_invitation(request, invitation_uuid)
    if request.method == "POST":
        invitation_revoke(invitation=invitation, **audit_by(request))
        messages.success(request, f"Invitation of {invitation.email} revoked.")
        return redirect("member_list", request.workspace.slug)
    return render(request, "portal/members/revoke.html", {"invitation": invitation})


@workspace_view(perms.WORKSPACE_MANAGE)
@require_http_methods(["GET", "POST"])
def member_edit(request: PortalRequest, membership_uuid):
    membership = get_object_or_404(
        request.workspace.memberships.select_related("user"), uuid=membership_uuid
    )
    initial = {"roles": membership.roles.all(), "org_unit": membership.org_unit}
    form = MemberForm(
        request.POST or None, initial=initial, workspace=request.workspace, editing=True
    )
    if request.method == "POST" and form.is_valid():
        try:
            membership_update(
                membership=membership,
                roles=form.cleaned_data["roles"],
                org_unit=form.cleaned_data["org_unit"],
                **audit_by(request),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"{membership.user.email} updated.")
            return redirect("member_list", request.workspace.slug)
    context = {"form": form, "membership": membership}
    return render(request, "portal/members/edit.html", context)


@workspace_view(perms.WORKSPACE_MANAGE)
@require_http_methods(["GET", "POST"])
def member_remove(request: PortalRequest, membership_uuid):
    """GET asks for confirmation; POST removes the membership (the user account stays)."""
    membership = get_object_or_404(
        request.workspace.memberships.select_related("user"), uuid=membership_uuid
    )
    error = ""
    if request.method == "POST":
        try:
            membership_remove(membership=membership, **audit_by(request))
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, f"{membership.user.email} removed from the workspace.")
            return redirect("member_list", request.workspace.slug)
    context = {"membership": membership, "error": error}
    return render(request, "portal/members/remove.html", context, status=400 if error else 200)
