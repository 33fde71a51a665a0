"""Reads for tenancy that more than one page needs."""

from __future__ import annotations

from portal.models import Invitation, email_folded


def invitations_open_for(user) -> list[Invitation]:
    """The invitations a user may still answer: addressed to their e-mail (iexact in the
    database, then compared Unicode-folded, as the password reset form finds accounts)."""
    if not user.email:
        return []
    invitations = (
        Invitation.objects.open()
        .filter(email__iexact=user.email)
        .select_related("workspace", "invited_by")
        .prefetch_related("roles")
        .order_by("-sent_at")
    )
    return [i for i in invitations if email_folded(i.email) == email_folded(user.email)]
