"""The permissions backend: `user.has_perm(perm, workspace_or_object)` from the member's roles."""

from __future__ import annotations

import importlib

import pytest

from portal import perms
from portal.permissions import workspace_permissions
from tests.factories import ContactFactory, MembershipFactory, RoleFactory, UserFactory

pytestmark = pytest.mark.django_db

STRIPE = [perms.STRIPE_VIEW, perms.STRIPE_READ, perms.STRIPE_PAY, perms.STRIPE_ALL]


@pytest.mark.parametrize(
    ("persona", "granted"),
    [
        ("owner", set(STRIPE)),
        ("staff", {perms.STRIPE_VIEW, perms.STRIPE_READ}),
        ("payer", {perms.STRIPE_PAY}),
        ("viewer", {perms.STRIPE_VIEW, perms.STRIPE_READ}),
        ("norole", set()),
    ],
)
def test_each_role_grants_its_stripe_permissions(persona, granted, request, workspace):
    user = request.getfixturevalue(persona)

    answers = {perm for perm in STRIPE if user.has_perm(perm, workspace)}

    assert answers == granted


@pytest.mark.parametrize(
    ("persona", "perm", "expected"),
    [
        ("owner", perms.WORKSPACE_MANAGE, True),
        ("staff", perms.WORKSPACE_MANAGE, False),
        ("staff", perms.CONTACTS_EDIT, True),
        ("staff", perms.CONTACTS_VIEW, True),  # implied by contacts=edit
        ("viewer", perms.CONTACTS_VIEW, True),
        ("viewer", perms.CONTACTS_EDIT, False),
        ("payer", perms.CONTACTS_VIEW, False),
        ("staff", perms.BILLING_CHARGE, True),
        ("viewer", perms.BILLING_CHARGE, False),
    ],
)
def test_the_builtin_roles_grant_what_they_list(persona, perm, expected, request, workspace):
    assert request.getfixturevalue(persona).has_perm(perm, workspace) is expected


def test_stripe_all_implies_view_read_and_pay(workspace):
    role = RoleFactory(workspace=workspace, permissions=[perms.STRIPE_ALL])
    user = UserFactory()
    MembershipFactory(user=user, workspace=workspace, roles=[role])

    assert all(user.has_perm(perm, workspace) for perm in STRIPE)
    assert not user.has_perm(perms.BILLING_CHARGE, workspace)


def test_permissions_of_several_roles_add_up(workspace):
    user = UserFactory()
    MembershipFactory(user=user, workspace=workspace, roles=[perms.INVOICE_PAYER, perms.VIEWER])

    assert user.has_perm(perms.STRIPE_PAY, workspace)
    assert user.has_perm(perms.CONTACTS_VIEW, workspace)
    assert user.has_perm(perms.STRIPE_READ, workspace)
    assert not user.has_perm(perms.BILLING_CHARGE, workspace)


def test_an_object_answers_for_its_workspace(workspace, other_workspace, viewer):
    assert viewer.has_perm(perms.CONTACTS_VIEW, ContactFactory(workspace=workspace))
    assert not viewer.has_perm(perms.CONTACTS_VIEW, ContactFactory(workspace=other_workspace))


def test_without_an_object_the_answer_is_no(owner):
    assert not owner.has_perm(perms.STRIPE_VIEW)
    assert not owner.has_perm(perms.STRIPE_VIEW, object())
    assert not owner.get_all_permissions()


def test_a_role_in_one_workspace_grants_nothing_in_another(workspace, owner, other_workspace):
    assert owner.has_perm(perms.STRIPE_ALL, workspace)
    assert not owner.has_perm(perms.STRIPE_VIEW, other_workspace)
    assert workspace_permissions(owner, other_workspace) == frozenset()


def test_an_unknown_permission_is_never_granted(workspace, owner):
    assert not owner.has_perm("stripe=delete", workspace)
    assert not owner.has_perm("portal.add_contact", workspace)
    assert not owner.has_perm("", workspace)


def test_an_inactive_user_holds_nothing(workspace, owner):
    owner.is_active = False
    owner.save()

    assert not owner.has_perm(perms.STRIPE_VIEW, workspace)
    assert workspace_permissions(owner, workspace) == frozenset()


def test_an_anonymous_user_holds_nothing(workspace):
    from django.contrib.auth.models import AnonymousUser

    assert not AnonymousUser().has_perm(perms.STRIPE_VIEW, workspace)


def test_a_superuser_holds_every_portal_permission_in_any_workspace(workspace):
    admin = UserFactory(is_superuser=True, is_staff=True)

    assert workspace_permissions(admin, workspace) == perms.ALL
    assert admin.has_perm(perms.STRIPE_ALL, workspace)


def test_existing_viewer_roles_gain_stripe_read_unless_someone_edited_them(
    workspace, other_workspace
):
    """Migration 0007: the dashboard now needs stripe=read too, so untouched built-in Viewer
    roles gain it; a Viewer role someone changed is left as they made it."""
    from django.apps import apps

    migration = importlib.import_module("portal.migrations.0007_viewer_reads_stripe")
    untouched = workspace.roles.get(name=perms.VIEWER)
    untouched.permissions = [perms.STRIPE_VIEW, perms.CONTACTS_VIEW]
    untouched.save()
    edited = other_workspace.roles.get(name=perms.VIEWER)
    edited.permissions = [perms.CONTACTS_VIEW]
    edited.save()

    migration.forwards(apps, None)

    untouched.refresh_from_db()
    edited.refresh_from_db()
    assert set(untouched.permissions) == {perms.STRIPE_VIEW, perms.STRIPE_READ, perms.CONTACTS_VIEW}
    assert edited.permissions == [perms.CONTACTS_VIEW]
