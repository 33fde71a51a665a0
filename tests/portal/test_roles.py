"""Roles: create and edit named permission sets; changes take effect on the next request."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from portal import perms
from portal.models import Role
from tests.factories import MembershipFactory, RoleFactory, UserFactory

pytestmark = pytest.mark.django_db


def _field_block(html: str, name: str) -> str:
    """The markup `_form.html` renders for one field (its label, inputs and errors)."""
    for block in html.split('<div class="field')[1:]:
        if f'name="{name}"' in block:
            return block
    raise AssertionError(f"no field {name} in the page")


def _roles(workspace) -> list[tuple]:
    return list(workspace.roles.order_by("pk").values_list("name", "permissions"))


def test_it_creates_a_role_and_lists_its_permissions_in_short_form(workspace, owner, as_user):
    client = as_user(owner)

    response = client.post(
        reverse("role_create", args=["acme"]),
        {"name": "  Bookkeeper ", "permissions": [perms.STRIPE_VIEW, perms.INVOICES_MANAGE]},
    )

    assert response.status_code == 302
    assert response.url == reverse("role_list", args=["acme"])
    role = workspace.roles.get(name="Bookkeeper")
    assert role.permissions == [perms.INVOICES_MANAGE, perms.STRIPE_VIEW]
    assert not role.builtin
    listing = client.get(response.url).text
    row = listing[listing.index("<td>Bookkeeper") :].split("</tr>")[0]
    assert "stripe=view" in row and "invoices=manage" in row
    assert "billing=charge" not in row


def test_a_role_may_have_no_permissions(workspace, owner, as_user):
    response = as_user(owner).post(reverse("role_create", args=["acme"]), {"name": "Guest"})

    assert response.status_code == 302
    assert workspace.roles.get(name="Guest").permissions == []


def test_the_edit_form_shows_the_current_permissions(workspace, owner, as_user):
    role = workspace.roles.get(name=perms.VIEWER)

    response = as_user(owner).get(reverse("role_edit", args=["acme", role.uuid]))

    checked = set(re.findall(r'value="([^"]+)" id="id_permissions_\d+" checked', response.text))
    assert checked == {perms.STRIPE_VIEW, perms.STRIPE_READ, perms.CONTACTS_VIEW}


def test_it_edits_a_roles_name_and_permissions(workspace, owner, as_user):
    role = RoleFactory(workspace=workspace, name="Helper", permissions=[perms.STRIPE_VIEW])

    response = as_user(owner).post(
        reverse("role_edit", args=["acme", role.uuid]),
        {"name": "Charger", "permissions": [perms.BILLING_CHARGE, perms.STRIPE_READ]},
    )

    assert response.status_code == 302
    role.refresh_from_db()
    assert role.name == "Charger"
    assert role.permissions == [perms.BILLING_CHARGE, perms.STRIPE_READ]


def test_a_duplicate_name_is_refused_next_to_the_name(workspace, owner, as_user):
    role = RoleFactory(workspace=workspace, name="Helper")
    before = _roles(workspace)
    client = as_user(owner)

    created = client.post(reverse("role_create", args=["acme"]), {"name": perms.STAFF})
    renamed = client.post(reverse("role_edit", args=["acme", role.uuid]), {"name": perms.VIEWER})

    for response in (created, renamed):
        assert response.status_code == 200
        assert "A role with this name exists already." in _field_block(response.text, "name")
    assert _roles(workspace) == before


def test_a_name_used_in_another_workspace_is_allowed(workspace, other_workspace, owner, as_user):
    RoleFactory(workspace=other_workspace, name="Bookkeeper")

    response = as_user(owner).post(reverse("role_create", args=["acme"]), {"name": "Bookkeeper"})

    assert response.status_code == 302
    assert workspace.roles.filter(name="Bookkeeper").exists()


def test_an_unknown_permission_is_refused(workspace, owner, as_user):
    before = _roles(workspace)

    response = as_user(owner).post(
        reverse("role_create", args=["acme"]),
        {"name": "Sneaky", "permissions": [perms.STRIPE_VIEW, "superpowers=all"]},
    )

    assert response.status_code == 200
    assert "Select a valid choice" in _field_block(response.text, "permissions")
    assert _roles(workspace) == before


def test_the_only_role_that_manages_the_workspace_keeps_that_permission(
    workspace, owner, staff, as_user
):
    role = workspace.roles.get(name=perms.OWNER)
    before = _roles(workspace)
    kept = [code for code in role.permissions if code != perms.WORKSPACE_MANAGE]

    response = as_user(owner).post(
        reverse("role_edit", args=["acme", role.uuid]),
        {"name": perms.OWNER, "permissions": kept},
    )

    assert response.status_code == 200
    assert "nobody able to manage members" in response.text
    assert _roles(workspace) == before
    assert as_user(owner).get(reverse("role_list", args=["acme"])).status_code == 200


def test_a_manage_role_nobody_holds_can_lose_the_permission(workspace, owner, as_user):
    role = RoleFactory(workspace=workspace, name="Spare", permissions=[perms.WORKSPACE_MANAGE])

    response = as_user(owner).post(
        reverse("role_edit", args=["acme", role.uuid]), {"name": "Spare", "permissions": []}
    )

    assert response.status_code == 302
    role.refresh_from_db()
    assert role.permissions == []


def test_a_role_gaining_a_permission_opens_the_page_to_its_members(workspace, owner, as_user):
    role = RoleFactory(workspace=workspace, name="Caller", permissions=[perms.STRIPE_VIEW])
    caller = UserFactory(username="caller@acme.test")
    MembershipFactory(user=caller, workspace=workspace, roles=[role])
    contacts_url = reverse("contact_list", args=["acme"])
    caller_client = as_user(caller)
    assert caller_client.get(contacts_url).status_code == 403

    as_user(owner).post(
        reverse("role_edit", args=["acme", role.uuid]),
        {"name": "Caller", "permissions": [perms.STRIPE_VIEW, perms.CONTACTS_VIEW]},
    )

    assert caller_client.get(contacts_url).status_code == 200
    assert caller_client.get(reverse("contact_create", args=["acme"])).status_code == 403


def test_a_role_of_another_workspace_is_not_found(workspace, other_workspace, owner, as_user):
    foreign = other_workspace.roles.get(name=perms.VIEWER)

    response = as_user(owner).post(
        reverse("role_edit", args=["acme", foreign.uuid]), {"name": "Pwned", "permissions": []}
    )

    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.name == perms.VIEWER
    assert Role.objects.filter(name="Pwned").count() == 0


def test_a_refused_rename_shows_the_role_as_it_still_is(workspace, owner, as_user):
    role = RoleFactory(workspace=workspace, name="Helper")

    response = as_user(owner).post(
        reverse("role_edit", args=["acme", role.uuid]), {"name": perms.STAFF}
    )

    assert "Edit role Helper" in response.text
    assert f'value="{perms.STAFF}"' in _field_block(response.text, "name")  # what was typed
