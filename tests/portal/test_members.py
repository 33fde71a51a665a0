"""Members: invite by e-mail, change roles and unit, remove with confirmation.

Inviting makes an invitation, never a membership (tests/portal/test_invitations.py follows it
to the invitee's answer). The workspace must always keep someone able to manage it
(workspace=manage).
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal import perms
from portal.models import Invitation, Membership
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

User = get_user_model()


def _field_block(html: str, name: str) -> str:
    """The markup `_form.html` renders for one field (its label, inputs and errors)."""
    for block in html.split('<div class="field')[1:]:
        if f'name="{name}"' in block:
            return block
    raise AssertionError(f"no field {name} in the page")


def _membership(user, workspace):
    return Membership.objects.get(user=user, workspace=workspace)


def _memberships(workspace) -> list[tuple]:
    """Every membership of the workspace with its roles and unit, to compare before/after."""
    return [
        (m.user.email, sorted(r.name for r in m.roles.all()), m.org_unit_id)
        for m in workspace.memberships.select_related("user").order_by("user__email")
    ]


def _role(workspace, name):
    return workspace.roles.get(name=name)


# --- list -----------------------------------------------------------------------------------


def test_the_list_shows_members_with_roles_and_units(workspace, owner, payer, as_user):
    response = as_user(owner).get(reverse("member_list", args=["acme"]))

    assert "payer@acme.test" in response.text
    assert perms.INVOICE_PAYER in response.text
    assert "/acme/Branch A" in response.text


# --- add ------------------------------------------------------------------------------------


def test_it_invites_an_existing_user_by_email_without_adding_them(
    workspace, org_units, owner, as_user, django_capture_on_commit_callbacks
):
    user = UserFactory(username="grace@example.com")
    staff_role = _role(workspace, perms.STAFF)
    unit = org_units["/acme/Branch B"]
    before = _memberships(workspace)

    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(owner).post(
            reverse("member_add", args=["acme"]),
            {"email": "  Grace@Example.com ", "roles": [staff_role.pk], "org_unit": unit.pk},
        )

    assert response.status_code == 302
    assert response.url == reverse("member_list", args=["acme"])
    assert _memberships(workspace) == before
    assert not Membership.objects.filter(user=user).exists()
    invitation = Invitation.objects.get(workspace=workspace)
    assert invitation.email == "grace@example.com"
    assert list(invitation.roles.all()) == [staff_role] and invitation.org_unit == unit
    assert [m.to for m in mail.outbox] == [["grace@example.com"]]
    assert "/invitations/" in mail.outbox[0].body


def test_a_new_email_gets_an_invitation_and_no_account_until_they_choose_a_password(
    workspace, owner, as_user, client, django_capture_on_commit_callbacks
):
    viewer_role = _role(workspace, perms.VIEWER)

    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(owner).post(
            reverse("member_add", args=["acme"]),
            {"email": "New.Person@Example.com", "roles": [viewer_role.pk]},
        )

    assert response.status_code == 302
    assert not User.objects.filter(email__iexact="new.person@example.com").exists()
    assert len(mail.outbox) == 1
    invite = mail.outbox[0]
    assert invite.to == ["new.person@example.com"]
    link = re.search(r"https?://[^/\s]+(/invitations/\S+/)", invite.body).group(1)

    # The link lets them choose a password and log in with it.
    form_page = client.get(link)
    assert "Choose a password for new.person@example.com" in form_page.text
    done = client.post(
        link, {"new_password1": "a-long-new-passphrase", "new_password2": "a-long-new-passphrase"}
    )
    assert done.status_code == 302
    assert not User.objects.get(email="new.person@example.com").memberships.exists()
    assert client.login(username="new.person@example.com", password="a-long-new-passphrase")


def test_adding_a_member_again_is_refused_next_to_the_email(workspace, owner, staff, as_user):
    before = _memberships(workspace)

    response = as_user(owner).post(
        reverse("member_add", args=["acme"]),
        {"email": "STAFF@acme.test", "roles": [_role(workspace, perms.OWNER).pk]},
    )

    assert response.status_code == 200
    assert "already a member" in _field_block(response.text, "email")
    assert _memberships(workspace) == before


def test_a_refused_new_email_creates_no_account(workspace, owner, as_user):
    response = as_user(owner).post(
        reverse("member_add", args=["acme"]), {"email": "someone@example.com", "roles": []}
    )

    assert response.status_code == 200
    assert "This field is required." in _field_block(response.text, "roles")
    assert not User.objects.filter(email="someone@example.com").exists()
    assert not Invitation.objects.exists()


@pytest.mark.parametrize("attribute", ["pk", "uuid"])
def test_a_role_of_another_workspace_is_refused_next_to_the_roles(
    attribute, workspace, other_workspace, owner, viewer, as_user
):
    foreign = _role(other_workspace, perms.OWNER)
    before = _memberships(workspace)
    client = as_user(owner)

    added = client.post(
        reverse("member_add", args=["acme"]),
        {"email": "sneaky@example.com", "roles": [getattr(foreign, attribute)]},
    )
    changed = client.post(
        reverse("member_edit", args=["acme", _membership(viewer, workspace).uuid]),
        {"roles": [getattr(foreign, attribute)]},
    )

    for response in (added, changed):
        assert response.status_code == 200
        roles_block = _field_block(response.text, "roles")
        assert 'class="errorlist"' in roles_block
        assert "valid" in roles_block  # "Select a valid choice" or "... is not a valid value"
    assert _memberships(workspace) == before
    assert not foreign.memberships.filter(workspace=workspace).exists()
    assert not Invitation.objects.exists()


def test_a_unit_of_another_workspace_is_refused(workspace, other_workspace, owner, viewer, as_user):
    from tests.factories import OrgUnitFactory

    foreign = OrgUnitFactory(workspace=other_workspace, name="globex")
    before = _memberships(workspace)

    response = as_user(owner).post(
        reverse("member_edit", args=["acme", _membership(viewer, workspace).uuid]),
        {"roles": [_role(workspace, perms.VIEWER).pk], "org_unit": foreign.pk},
    )

    assert response.status_code == 200
    assert "Select a valid choice" in _field_block(response.text, "org_unit")
    assert _memberships(workspace) == before


# --- change ---------------------------------------------------------------------------------


def test_the_change_form_shows_current_roles_and_unit(workspace, org_units, owner, payer, as_user):
    response = as_user(owner).get(
        reverse("member_edit", args=["acme", _membership(payer, workspace).uuid])
    )

    form = response.context["form"]
    assert [r.name for r in form["roles"].initial] == [perms.INVOICE_PAYER]
    assert form["org_unit"].initial == org_units["/acme/Branch A"]


def test_it_changes_roles_and_unit(workspace, org_units, owner, payer, as_user):
    membership = _membership(payer, workspace)
    new_roles = [_role(workspace, perms.STAFF), _role(workspace, perms.VIEWER)]

    response = as_user(owner).post(
        reverse("member_edit", args=["acme", membership.uuid]),
        {"roles": [r.pk for r in new_roles], "org_unit": org_units["/acme/Branch B"].pk},
    )

    assert response.status_code == 302
    membership.refresh_from_db()
    assert sorted(r.name for r in membership.roles.all()) == [perms.STAFF, perms.VIEWER]
    assert membership.org_unit == org_units["/acme/Branch B"]
    assert not payer.has_perm(perms.STRIPE_PAY, workspace)


def test_the_only_owner_keeps_the_owner_role(workspace, org_units, owner, staff, as_user):
    before = _memberships(workspace)

    response = as_user(owner).post(
        reverse("member_edit", args=["acme", _membership(owner, workspace).uuid]),
        {"roles": [_role(workspace, perms.STAFF).pk], "org_unit": ""},
    )

    assert response.status_code == 200
    assert "nobody able to manage members" in response.text
    assert _memberships(workspace) == before


def test_an_owner_role_can_move_when_another_member_has_it(workspace, owner, staff, as_user):
    MembershipFactory(
        workspace=workspace, user=UserFactory(username="owner2@acme.test"), roles=[perms.OWNER]
    )

    response = as_user(owner).post(
        reverse("member_edit", args=["acme", _membership(owner, workspace).uuid]),
        {"roles": [_role(workspace, perms.STAFF).pk]},
    )

    assert response.status_code == 302
    assert [r.name for r in _membership(owner, workspace).roles.all()] == [perms.STAFF]


# --- remove ---------------------------------------------------------------------------------


def test_remove_asks_for_confirmation_first(workspace, owner, staff, as_user):
    membership = _membership(staff, workspace)

    response = as_user(owner).get(reverse("member_remove", args=["acme", membership.uuid]))

    assert response.status_code == 200
    assert "Remove staff@acme.test from Acme?" in response.text
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_remove_on_post_removes_the_membership_not_the_user(workspace, owner, staff, as_user):
    client = as_user(owner)
    membership = _membership(staff, workspace)

    response = client.post(reverse("member_remove", args=["acme", membership.uuid]))

    assert response.status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert User.objects.filter(pk=staff.pk).exists()
    assert client.get(response.url).status_code == 200
    assert as_user(staff).get(reverse("workspace_home", args=["acme"])).status_code == 404


def test_the_last_manager_cannot_be_removed(workspace, owner, staff, as_user):
    before = _memberships(workspace)

    response = as_user(owner).post(
        reverse("member_remove", args=["acme", _membership(owner, workspace).uuid])
    )

    assert response.status_code == 400
    assert "nobody able to manage members" in response.text
    assert _memberships(workspace) == before


def test_inviting_a_user_who_never_set_a_password_sends_them_the_invitation(
    workspace, other_workspace, owner, as_user, django_capture_on_commit_callbacks
):
    invited = UserFactory(username="invited@example.com")
    invited.set_unusable_password()
    invited.save()
    MembershipFactory(user=invited, workspace=other_workspace, roles=[perms.VIEWER])

    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(owner).post(
            reverse("member_add", args=["acme"]),
            {"email": "invited@example.com", "roles": [_role(workspace, perms.VIEWER).pk]},
        )

    assert response.status_code == 302
    assert User.objects.filter(email__iexact="invited@example.com").count() == 1
    assert not invited.memberships.filter(workspace=workspace).exists()
    assert [m.to for m in mail.outbox] == [["invited@example.com"]]
    assert "/invitations/" in mail.outbox[0].body


def test_the_member_list_runs_as_many_queries_for_30_members_as_for_3(
    workspace, org_units, owner, staff, payer, as_user, django_assert_max_num_queries
):
    client = as_user(owner)
    client.get(reverse("member_list", args=["acme"]))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("member_list", args=["acme"]))

    for n in range(27):
        MembershipFactory(
            workspace=workspace,
            user=UserFactory(username=f"member{n:02d}@acme.test"),
            org_unit=org_units["/acme/Branch B"],
            roles=[perms.VIEWER, perms.STAFF],
        )
    with django_assert_max_num_queries(len(few)):
        response = client.get(reverse("member_list", args=["acme"]))
    assert response.text.count("/acme/Branch B") == 25  # a full page of the new members
    assert "member24@acme.test" in response.text and "staff@acme.test" not in response.text
