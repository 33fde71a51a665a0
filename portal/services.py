"""Writes for tenancy and contacts. Each service owns its transaction."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.text import slugify

from portal import perms
from portal.forms import PortalPasswordResetForm
from portal.models import Contact, Membership, OrgUnit, Role, Workspace

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
    *, workspace: Workspace, name: str, permissions: Iterable[str], role: Role | None = None
) -> Role:
    """Create a role, or rename it and set its permissions."""
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
    except Exception:
        # Refused: the caller's object goes back to what is stored (pages show its name).
        role.name, role.permissions = old_name, old_permissions
        raise
    return role


def membership_add(
    *,
    workspace: Workspace,
    email: str,
    roles: Iterable[Role],
    org_unit: OrgUnit | None,
    request=None,
) -> Membership:
    """Add a user (by e-mail) to the workspace; a new user gets an e-mail to set a password."""
    email = email.strip().lower()
    with transaction.atomic():
        user = User.objects.filter(email__iexact=email).first()
        created = user is None
        if created:
            user = User(username=email, email=email)
            user.set_unusable_password()
            user.save()
        if Membership.objects.filter(workspace=workspace, user=user).exists():
            raise ValidationError({"email": f"{email} is already a member of this workspace."})
        membership = Membership.objects.create(user=user, workspace=workspace, org_unit=org_unit)
        membership.roles.set(roles)
    # A user who never chose a password (invited elsewhere, link lost or expired) is invited again.
    if (created or not user.has_usable_password()) and request is not None:
        transaction.on_commit(lambda: _send_set_password_email(email, request))
    return membership


def _send_set_password_email(email: str, request) -> None:
    # This form, unlike Django's, includes users without a usable password: the invited.
    form = PortalPasswordResetForm(data={"email": email})
    if form.is_valid():
        form.save(
            request=request,
            use_https=request.is_secure(),
            subject_template_name="registration/invite_subject.txt",
            email_template_name="registration/invite_email.txt",
        )


def membership_update(
    *, membership: Membership, roles: Iterable[Role], org_unit: OrgUnit | None
) -> Membership:
    with transaction.atomic():
        membership.org_unit = org_unit
        membership.save(update_fields=["org_unit"])
        membership.roles.set(roles)
        _ensure_a_manager_remains(membership.workspace)
    return membership


def membership_remove(*, membership: Membership) -> None:
    with transaction.atomic():
        workspace = membership.workspace
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
