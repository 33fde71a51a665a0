"""Every workspace page: who gets 200, 403 (member without the permission), 404 (outsider).

A URL added under w/<ws>/ without a row here fails `test_every_workspace_url_has_a_row`.
"""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from portal import perms
from portal.permissions import workspace_permissions
from tests.factories import ContactFactory

PERSONAS = ["owner", "staff", "viewer", "payer", "norole"]

# url name -> (permission, needs: which object the URL names)
PAGES = {
    "workspace_home": (None, None),
    "contact_list": (perms.CONTACTS_VIEW, None),
    "contact_detail": (perms.CONTACTS_VIEW, "contact"),
    "contact_create": (perms.CONTACTS_EDIT, None),
    "contact_edit": (perms.CONTACTS_EDIT, "contact"),
    "member_list": (perms.WORKSPACE_MANAGE, None),
    "member_add": (perms.WORKSPACE_MANAGE, None),
    "member_edit": (perms.WORKSPACE_MANAGE, "membership"),
    "member_remove": (perms.WORKSPACE_MANAGE, "membership"),
    "role_list": (perms.WORKSPACE_MANAGE, None),
    "role_create": (perms.WORKSPACE_MANAGE, None),
    "role_edit": (perms.WORKSPACE_MANAGE, "role"),
    "org_unit_list": (perms.WORKSPACE_MANAGE, None),
    "org_unit_create": (perms.WORKSPACE_MANAGE, None),
    "org_unit_edit": (perms.WORKSPACE_MANAGE, "org_unit"),
}


def _objects(workspace, org_units, staff):
    return {
        "contact": ("contact_uuid", ContactFactory(workspace=workspace).uuid),
        "membership": ("membership_uuid", staff.memberships.get(workspace=workspace).uuid),
        "role": ("role_uuid", workspace.roles.get(name=perms.STAFF).uuid),
        "org_unit": ("unit_uuid", org_units["/acme/Branch B"].uuid),
    }


def _url(name, needs, objects, slug="acme"):
    kwargs = {"ws": slug}
    if needs:
        key, value = objects[needs]
        kwargs[key] = value
    return reverse(name, kwargs=kwargs)


def _granted(workspace, user) -> frozenset[str]:
    return workspace_permissions(user, workspace)


@pytest.mark.parametrize("name", sorted(PAGES))
def test_members_get_200_or_403_by_permission(
    name, request, workspace, org_units, owner, staff, viewer, payer, norole, as_user
):
    perm, needs = PAGES[name]
    url = _url(name, needs, _objects(workspace, org_units, staff))
    for persona in PERSONAS:
        user = request.getfixturevalue(persona)
        expected = 200 if perm is None or perm in _granted(workspace, user) else 403
        response = as_user(user).get(url)
        assert response.status_code == expected, f"{persona} GET {url}"
        if expected == 403:
            assert b"have access to this page" in response.content
            assert perm.encode() in response.content  # the page names what is missing


@pytest.mark.parametrize("name", sorted(PAGES))
def test_outsiders_get_404_and_anonymous_users_the_login_page(
    name, workspace, org_units, staff, outsider, as_user, client
):
    url = _url(name, PAGES[name][1], _objects(workspace, org_units, staff))
    assert as_user(outsider).get(url).status_code == 404
    assert as_user(outsider).post(url, {"name": "x"}).status_code == 404
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_owner_role_reaches_every_page(workspace, org_units, owner, staff, as_user):
    objects = _objects(workspace, org_units, staff)
    client = as_user(owner)
    for name, (_, needs) in PAGES.items():
        assert client.get(_url(name, needs, objects)).status_code == 200, name


def _workspace_patterns():
    for entry in get_resolver().url_patterns:
        if isinstance(entry, URLResolver) and "<slug:ws>" in str(entry.pattern):
            for sub in entry.url_patterns:
                if isinstance(sub, URLPattern):
                    yield sub


def test_every_workspace_url_has_a_row_with_the_views_own_permission():
    seen = {}
    for pattern in _workspace_patterns():
        seen[pattern.name] = getattr(pattern.callback, "required_permission", "undeclared")
    missing = set(seen) - set(PAGES)
    assert not missing, f"add rows for {sorted(missing)}"
    for name in PAGES:
        assert seen[name] == PAGES[name][0], f"{name}: view requires {seen[name]}"
