"""The invitee's side of an invitation: the e-mailed link `/invitations/<token>/`.

The token is the only way in. Anyone holding it sees the invitation (it was e-mailed to the
address it names); only a logged-in user with that address can answer it. A visitor without
an account chooses a password here, then answers.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from portal.audit import audit_by
from portal.forms import InvitationPasswordForm
from portal.models import Invitation
from portal.services import (
    InvitationClosed,
    invitation_accept,
    invitation_decline,
    invitation_password_set,
)

# The invitee proved their address with the link; the throttle has no password to check.
PASSWORD_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _invitation(token: str) -> Invitation:
    invitations = Invitation.objects.select_related("workspace", "invited_by", "org_unit")
    return get_object_or_404(invitations.prefetch_related("roles"), token=token)


def _not_yours(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/invitations/not_yours.html", status=403)


def _closed(request: HttpRequest, invitation: Invitation, status: Invitation.Status):
    """The page of an invitation that cannot be answered any more, and why."""
    context = {"invitation": invitation, "status": status.value}
    return render(request, "portal/invitations/closed.html", context, status=410)


@require_http_methods(["GET", "POST"])
def invitation_detail(request: HttpRequest, token: str):
    """The invitation with Accept and Decline; for a visitor, log in or choose a password."""
    invitation = _invitation(token)
    if request.user.is_authenticated and not invitation.is_for(request.user):
        return _not_yours(request)
    if invitation.status != Invitation.Status.PENDING:
        return _closed(request, invitation, invitation.status)
    form = None
    if not request.user.is_authenticated:
        form = InvitationPasswordForm(request.POST or None, email=invitation.email)
        if request.method == "POST" and form.is_valid():
            try:
                user = invitation_password_set(
                    invitation=invitation, password=form.cleaned_data["new_password1"]
                )
            except InvitationClosed as closed:
                return _closed(request, invitation, closed.status)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                login(request, user, backend=PASSWORD_BACKEND)
                return redirect(invitation)
    context = {"invitation": invitation, "form": form}
    return render(request, "portal/invitations/detail.html", context)


def _answer_login(token: str) -> HttpResponse:
    """A visitor answering is sent to log in, then back to the invitation (not to this POST)."""
    return redirect_to_login(reverse("invitation_detail", args=[token]))


@require_POST
def invitation_accept_view(request: HttpRequest, token: str):
    if not request.user.is_authenticated:
        return _answer_login(token)
    invitation = _invitation(token)
    if not invitation.is_for(request.user):
        return _not_yours(request)
    answered = invitation.status == Invitation.Status.ACCEPTED
    try:
        membership = invitation_accept(
            invitation=invitation, user=request.user, address=audit_by(request)["address"]
        )
    except InvitationClosed as closed:
        return _closed(request, invitation, closed.status)
    workspace = membership.workspace
    if answered:
        messages.info(
            request, f"You accepted this invitation already: welcome back to {workspace}."
        )
    else:
        messages.success(request, f"You joined {workspace}.")
    return redirect(workspace)


@require_POST
def invitation_decline_view(request: HttpRequest, token: str):
    if not request.user.is_authenticated:
        return _answer_login(token)
    invitation = _invitation(token)
    if not invitation.is_for(request.user):
        return _not_yours(request)
    try:
        invitation_decline(invitation=invitation, user=request.user)
    except InvitationClosed as closed:
        return _closed(request, invitation, closed.status)
    messages.success(request, f"You declined the invitation to {invitation.workspace}.")
    return redirect("home")
