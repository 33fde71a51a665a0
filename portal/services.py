"""Writes for tenancy (invitations too) and contacts. Each service owns its transaction."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import slugify

from portal import perms
from portal.audit import audit_record, changes_between
from portal.emails import email_render, email_send, user_zone, workspace_zone
from portal.models import (
    AuditEntry,
    Contact,
    Invitation,
    Membership,
    OrgUnit,
    Role,
    Workspace,
    email_folded,
)

User = get_user_model()


def workspace_create(*, name: str, owner, slug: str = "") -> Workspace:
    """A workspace with the built-in roles, its owner holding the Owner role."""
    with transaction.atomic():
        workspace = Workspace.objects.create(name=name, slug=slug or slugify(name)[:60])
        roles = {
            role_name: Role.objects.create(
                workspace=workspace, name=role_name, permissions=codes, builtin=True
            )
            for role_name, codes in perms.BUILTIN_ROLES.items()
        }
        membership = Membership.objects.create(user=owner, workspace=workspace)
        membership.roles.add(roles[perms.OWNER])
    return workspace


def builtin_roles_ensure(*, workspace: Workspace) -> dict[str, Role]:
    """The built-in roles of a workspace, creating any that are missing (never edits them)."""
    return {
        name: Role.objects.get_or_create(
            workspace=workspace, name=name, defaults={"permissions": codes, "builtin": True}
        )[0]
        for name, codes in perms.BUILTIN_ROLES.items()
    }


def _path_for(name: str, parent: OrgUnit | None) -> str:
    return f"{parent.path if parent else ''}/{name}"


def _check_free_path(workspace: Workspace, path: str, exclude: OrgUnit | None = None) -> None:
    clash = OrgUnit.objects.filter(workspace=workspace, path=path)
    if exclude is not None:
        clash = clash.exclude(pk=exclude.pk)
    if clash.exists():
        raise ValidationError({"name": f"There is already a unit at {path}."})


def org_unit_create(*, workspace: Workspace, name: str, parent: OrgUnit | None) -> OrgUnit:
    name = name.strip()
    unit = OrgUnit(workspace=workspace, name=name, parent=parent, path=_path_for(name, parent))
    unit.full_clean(exclude=["path"])
    with transaction.atomic():
        _check_free_path(workspace, unit.path)
        unit.save()
    return unit


def org_unit_update(*, unit: OrgUnit, name: str, parent: OrgUnit | None) -> OrgUnit:
    """Rename and/or move a unit; the paths of everything below it follow."""
    name = name.strip()
    if parent is not None and parent.is_within(unit):
        raise ValidationError({"parent": "A unit cannot move below itself."})
    old_name, old_parent, old_path = unit.name, unit.parent, unit.path
    unit.name, unit.parent = name, parent
    unit.path = _path_for(name, parent)
    try:
        unit.full_clean(exclude=["path"])
        with transaction.atomic():
            _check_free_path(unit.workspace, unit.path, exclude=unit)
            unit.save()
            descendants = (
                OrgUnit.objects.select_for_update().filter(workspace=unit.workspace).below(old_path)
            )
            for child in descendants:
                child.path = unit.path + child.path[len(old_path) :]
                child.save(update_fields=["path"])
    except Exception:
        # Refused: the caller's object goes back to what is stored (pages show its name).
        unit.name, unit.parent, unit.path = old_name, old_parent, old_path
        raise
    return unit


def _ensure_a_manager_remains(workspace: Workspace) -> None:
    """Refuse a change that would leave nobody able to manage the workspace's members.

    Checked in Python: roles are few, and SQLite cannot query inside JSON lists.
    """
    roles = Role.objects.filter(workspace=workspace, memberships__isnull=False).distinct()
    if not any(perms.WORKSPACE_MANAGE in role.permissions for role in roles):
        raise ValidationError(
            "This change would leave nobody able to manage members; keep at least one member "
            f"with {perms.WORKSPACE_MANAGE} (the Owner role has it)."
        )


def role_save(
    *,
    workspace: Workspace,
    name: str,
    permissions: Iterable[str],
    role: Role | None = None,
    actor=None,
    address: str | None = None,
) -> Role:
    """Create a role, or rename it and set its permissions. `actor` and `address` are who did
    it, for the audit trail (an edit that changes nothing records nothing)."""
    creating = role is None
    role = role or Role(workspace=workspace)
    old_name, old_permissions = role.name, role.permissions
    role.name = name.strip()
    role.permissions = sorted(set(permissions))
    try:
        role.full_clean(exclude=["workspace"])
        with transaction.atomic():
            clash = Role.objects.filter(workspace=workspace, name=role.name).exclude(pk=role.pk)
            if clash.exists():
                raise ValidationError({"name": "A role with this name exists already."})
            role.save()
            _ensure_a_manager_remains(workspace)
            _audit_role(
                role, creating, {"name": old_name, "permissions": old_permissions},
                actor=actor, address=address,
            )  # fmt: skip
    except Exception:
        # Refused: the caller's object goes back to what is stored (pages show its name).
        role.name, role.permissions = old_name, old_permissions
        raise
    return role


def _audit_role(role: Role, creating: bool, before: dict, *, actor, address) -> None:
    after = {"name": role.name, "permissions": role.permissions}
    changes = changes_between({} if creating else before, after)
    if not changes:
        return
    if creating:
        action, summary = AuditEntry.Action.ROLE_CREATE, f"Created the role {role.name}"
    else:
        action, summary = AuditEntry.Action.ROLE_UPDATE, f"Changed the role {role.name}"
    audit_record(
        workspace=role.workspace,
        actor=actor,
        address=address,
        action=action,
        summary=summary,
        changes=changes,
        obj=role,
    )


def _role_names(roles: Iterable[Role]) -> list[str]:
    return sorted(role.name for role in roles)


def _unit_path(unit: OrgUnit | None) -> str | None:
    return unit.path if unit is not None else None


class InvitationClosed(ValidationError):
    """The invitation cannot be answered any more; `status` says why (expired, revoked, ...)."""

    def __init__(self, status: Invitation.Status):
        super().__init__(f"This invitation is {status.label.lower()}.", code=status.value)
        self.status = status


def _users_with_email(email: str) -> list:
    """The accounts an address names: iexact in the database, then compared Unicode-folded, as
    the password reset form finds them."""
    users = User.objects.filter(email__iexact=email).order_by("pk")
    return [user for user in users if email_folded(user.email) == email_folded(email)]


def _invitation_refresh(invitation: Invitation) -> None:
    """Save with a new expiry, then e-mail the link once the transaction commits."""
    now = timezone.now()
    invitation.sent_at, invitation.expires_at = now, now + Invitation.LIFETIME
    invitation.save()
    transaction.on_commit(lambda: _invitation_email_send(invitation))


def _invitation_email_send(invitation: Invitation) -> None:
    context = {
        "invitation": invitation,
        "url": settings.SITE_URL + invitation.get_absolute_url(),
        "days": Invitation.LIFETIME.days,
    }
    subject = render_to_string("portal/emails/invitation_subject.txt", context)
    # An invitee who already has an account reads the expiry at their own clock; a newcomer
    # at the workspace's; the zone is named beside it.
    known = _users_with_email(invitation.email)
    zone = (
        user_zone(known[0], invitation.workspace) if known else workspace_zone(invitation.workspace)
    )
    email = email_render(
        "invitation", context, subject=subject, workspace=invitation.workspace, zone=zone
    )
    email_send(email, to=[invitation.email])


def invitation_send(
    *,
    workspace: Workspace,
    email: str,
    roles: Iterable[Role],
    org_unit: OrgUnit | None,
    invited_by,
    address: str | None = None,
) -> tuple[Invitation, bool]:
    """Invite someone by e-mail; nothing changes in the workspace until they accept.

    Whether the address has an account makes no difference here. A pending invitation to the
    same address is updated (these roles and unit, a new expiry) and sent again instead of a
    second one. Returns the invitation and whether it is new. The audit trail records it as
    `invited_by`'s, from `address`.
    """
    email = email.strip().lower()
    with transaction.atomic():
        members = Membership.objects.filter(workspace=workspace, user__email__iexact=email)
        if any(
            email_folded(m.user.email) == email_folded(email)
            for m in members.select_related("user")
        ):
            raise ValidationError({"email": f"{email} is already a member of this workspace."})
        pending = Invitation.objects.select_for_update().pending()
        invitation = pending.filter(workspace=workspace, email__iexact=email).first()
        created = invitation is None
        if created:
            invitation = Invitation(workspace=workspace, email=email)
            before = {}
        else:
            before = {
                "roles": _role_names(invitation.roles.all()),
                "org unit": _unit_path(invitation.org_unit),
            }
        invitation.org_unit, invitation.invited_by = org_unit, invited_by
        try:
            with transaction.atomic():
                _invitation_refresh(invitation)
        except IntegrityError:
            # Another request invited the same address a moment ago.
            raise ValidationError({"email": f"{email} was invited just now."}) from None
        invitation.roles.set(roles)
        after = {"roles": _role_names(invitation.roles.all()), "org unit": _unit_path(org_unit)}
        verb = "Invited" if created else "Updated and sent again the invitation of"
        audit_record(
            workspace=workspace,
            actor=invited_by,
            address=address,
            action=AuditEntry.Action.MEMBER_INVITE,
            summary=f"{verb} {email} as {invitation.role_names}",
            changes=changes_between(before, after),
            obj=invitation,
            label=email,
        )
    return invitation, created


def _audit_invitation(invitation: Invitation, action: str, summary: str, *, actor, address):
    audit_record(
        workspace=invitation.workspace,
        actor=actor,
        address=address,
        action=action,
        summary=summary,
        obj=invitation,
        label=invitation.email,
    )


def invitation_resend(
    *, invitation: Invitation, actor=None, address: str | None = None
) -> Invitation:
    """E-mail a pending invitation again, with a new expiry (the link stays the same).
    `actor` and `address` are who sent it, for the audit trail."""
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.status not in (Invitation.Status.PENDING, Invitation.Status.EXPIRED):
            raise InvitationClosed(invitation.status)
        _invitation_refresh(invitation)
        _audit_invitation(
            invitation,
            AuditEntry.Action.MEMBER_INVITE_RESEND,
            f"Sent the invitation of {invitation.email} again",
            actor=actor,
            address=address,
        )
    return invitation


def invitation_revoke(
    *, invitation: Invitation, actor=None, address: str | None = None
) -> Invitation:
    """Withdraw a pending invitation: its link then says so. Revoking twice changes nothing
    (and records nothing). `actor` and `address` are who revoked it, for the audit trail."""
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.status in (Invitation.Status.PENDING, Invitation.Status.EXPIRED):
            invitation.revoked_at = timezone.now()
            invitation.save(update_fields=["revoked_at"])
            _audit_invitation(
                invitation,
                AuditEntry.Action.MEMBER_INVITE_REVOKE,
                f"Revoked the invitation of {invitation.email}",
                actor=actor,
                address=address,
            )
    return invitation


def _invitation_for_answer(invitation: Invitation, user) -> Invitation:
    """The invitation, locked, once `user` is the person it names (PermissionDenied if not)."""
    invitation = (
        Invitation.objects.select_for_update().select_related("workspace").get(pk=invitation.pk)
    )
    if not invitation.is_for(user):
        raise PermissionDenied("This invitation was sent to someone else.")
    return invitation


def invitation_accept(*, invitation: Invitation, user, address: str | None = None) -> Membership:
    """Make `user` a member with the invited roles and unit.

    Accepting an accepted invitation again (a form sent twice, Back) returns the membership it
    made; once that membership is gone, the invitation cannot bring it back. The audit trail
    records the acceptance as `user`'s, from `address`.
    """
    with transaction.atomic():
        invitation = _invitation_for_answer(invitation, user)
        status = invitation.status
        membership = Membership.objects.filter(workspace=invitation.workspace, user=user).first()
        if status == Invitation.Status.ACCEPTED and membership is not None:
            return membership
        if status != Invitation.Status.PENDING:
            raise InvitationClosed(status)
        joined = membership is None
        if joined:  # a member already (invited twice, say) keeps their roles
            membership = Membership.objects.create(
                user=user, workspace=invitation.workspace, org_unit=invitation.org_unit
            )
            membership.roles.set(invitation.roles.all())
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at"])
        after = {
            "roles": _role_names(membership.roles.all()),
            "org unit": _unit_path(membership.org_unit),
        }
        audit_record(
            workspace=invitation.workspace,
            actor=user,
            address=address,
            action=AuditEntry.Action.MEMBER_INVITE_ACCEPT,
            summary=(
                f"{invitation.email} accepted the invitation and joined as "
                f"{', '.join(after['roles']) or 'a member without a role'}"
                if joined
                else f"{invitation.email} accepted the invitation (a member already: unchanged)"
            ),
            changes=changes_between({}, after) if joined else {},
            obj=membership,
            label=invitation.email,
        )
    return membership


def invitation_decline(*, invitation: Invitation, user) -> Invitation:
    """Say no: the workspace gets no member. Declining twice changes nothing."""
    with transaction.atomic():
        invitation = _invitation_for_answer(invitation, user)
        status = invitation.status
        if status == Invitation.Status.PENDING:
            invitation.declined_at = timezone.now()
            invitation.save(update_fields=["declined_at"])
        elif status != Invitation.Status.DECLINED:
            raise InvitationClosed(status)
    return invitation


def invitation_password_set(*, invitation: Invitation, password: str):
    """The account of an invited person who has none yet, with the password they chose.

    Holding the link proves the address is theirs, as a password reset link does. An account
    that has a password already is never changed here: its owner logs in instead. One made
    without a password (invited before invitations existed) gets this one.
    """
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.status != Invitation.Status.PENDING:
            raise InvitationClosed(invitation.status)
        email = invitation.email
        users = _users_with_email(email)
        taken = any(u.has_usable_password() or not u.is_active for u in users) or (
            not users and User.objects.filter(username__iexact=email).exists()
        )
        if taken:
            raise ValidationError(
                "There is an account with this e-mail address already: log in to answer the "
                "invitation."
            )
        user = users[0] if users else User(username=email, email=email)
        user.set_password(password)
        user.save()
    return user


def _membership_state(membership: Membership) -> dict:
    return {
        "roles": _role_names(membership.roles.all()),
        "org unit": _unit_path(membership.org_unit),
    }


def _member_label(membership: Membership) -> str:
    user = membership.user
    return user.email or user.get_username()


def membership_update(
    *,
    membership: Membership,
    roles: Iterable[Role],
    org_unit: OrgUnit | None,
    actor=None,
    address: str | None = None,
) -> Membership:
    """Set a member's roles and unit. `actor` and `address` are who did it, for the audit
    trail (which records only a change)."""
    with transaction.atomic():
        before = _membership_state(membership)
        membership.org_unit = org_unit
        membership.save(update_fields=["org_unit"])
        membership.roles.set(roles)
        _ensure_a_manager_remains(membership.workspace)
        changes = changes_between(before, _membership_state(membership))
        if changes:
            audit_record(
                workspace=membership.workspace,
                actor=actor,
                address=address,
                action=AuditEntry.Action.MEMBER_UPDATE,
                summary=f"Changed the roles of {_member_label(membership)}"
                if "roles" in changes
                else f"Moved {_member_label(membership)} to another org unit",
                changes=changes,
                obj=membership,
                label=_member_label(membership),
            )
    return membership


def membership_remove(*, membership: Membership, actor=None, address: str | None = None) -> None:
    """Remove a member (the account stays). `actor` and `address` are who did it, for the
    audit trail, whose entry outlives the membership."""
    with transaction.atomic():
        workspace = membership.workspace
        audit_record(
            workspace=workspace,
            actor=actor,
            address=address,
            action=AuditEntry.Action.MEMBER_REMOVE,
            summary=f"Removed {_member_label(membership)} from the workspace",
            changes=changes_between(_membership_state(membership), {}),
            obj=membership,
            label=_member_label(membership),
        )
        membership.delete()
        _ensure_a_manager_remains(workspace)


def contact_save(*, workspace: Workspace, contact: Contact | None = None, **fields) -> Contact:
    """Create a contact, or update the given fields of one."""
    contact = contact or Contact(workspace=workspace)
    for name, value in fields.items():
        setattr(contact, name, value)
    contact.full_clean(exclude=["workspace"])
    contact.save()
    return contact


def contacts_stripe_customer_forget(*, workspace_id: int, customer_id: str) -> int:
    """A customer deleted in Stripe: contacts stop pointing at it (a charge of their card on
    file then says there is none, instead of failing at Stripe). Returns how many changed."""
    if not customer_id:
        return 0
    # A new generation: the next customer made for these contacts gets a new idempotency key.
    return Contact.objects.filter(workspace_id=workspace_id, stripe_customer_id=customer_id).update(
        stripe_customer_id="", stripe_customer_generation=F("stripe_customer_generation") + 1
    )
