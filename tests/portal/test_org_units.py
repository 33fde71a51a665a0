"""Org units: a tree addressed by paths; renaming or moving a unit carries its subtree along."""

from __future__ import annotations

import pytest
from django.urls import reverse

from portal.models import OrgUnit
from tests.factories import OrgUnitFactory

pytestmark = pytest.mark.django_db


def _field_block(html: str, name: str) -> str:
    """The markup `_form.html` renders for one field (its label, inputs and errors)."""
    for block in html.split('<div class="field')[1:]:
        if f'name="{name}"' in block:
            return block
    raise AssertionError(f"no field {name} in the page")


def _paths(workspace) -> list[str]:
    return list(workspace.org_units.order_by("path").values_list("path", flat=True))


def _tree(workspace) -> list[tuple]:
    """Every unit's name, parent and path, to prove a refused change saved nothing."""
    return list(workspace.org_units.order_by("pk").values_list("name", "parent_id", "path"))


def _edit(unit):
    return reverse("org_unit_edit", args=[unit.workspace.slug, unit.uuid])


def _create():
    return reverse("org_unit_create", args=["acme"])


@pytest.fixture
def deep(workspace, org_units):
    """/acme/Branch A/Team 1/Desk, below the personas' tree."""
    team = OrgUnitFactory(workspace=workspace, name="Team 1", parent=org_units["/acme/Branch A"])
    OrgUnitFactory(workspace=workspace, name="Desk", parent=team)
    return team


def test_it_adds_a_top_level_unit_and_a_child(workspace, owner, as_user):
    client = as_user(owner)

    top = client.post(_create(), {"name": " x ", "parent": ""})
    x = workspace.org_units.get(path="/x")
    child = client.post(_create(), {"name": "y", "parent": x.pk})

    assert top.status_code == 302 and child.status_code == 302
    y = workspace.org_units.get(path="/x/y")
    assert y.parent == x and y.name == "y"
    listing = client.get(reverse("org_unit_list", args=["acme"])).text
    assert listing.index("/x<") < listing.index("/x/y<")


def test_the_list_shows_the_tree_in_path_order(workspace, org_units, deep, owner, as_user):
    listing = as_user(owner).get(reverse("org_unit_list", args=["acme"])).text

    positions = [listing.index(f">{path}<") for path in _paths(workspace)]
    assert positions == sorted(positions)


def test_renaming_a_unit_renames_its_descendants(workspace, org_units, deep, owner, as_user):
    branch = org_units["/acme/Branch A"]

    response = as_user(owner).post(
        _edit(branch), {"name": "North", "parent": org_units["/acme"].pk}
    )

    assert response.status_code == 302
    assert _paths(workspace) == [
        "/acme",
        "/acme/Branch B",
        "/acme/North",
        "/acme/North/Team 1",
        "/acme/North/Team 1/Desk",
    ]


def test_renaming_the_root_renames_everything(workspace, org_units, deep, owner, as_user):
    response = as_user(owner).post(_edit(org_units["/acme"]), {"name": "Acme Inc", "parent": ""})

    assert response.status_code == 302
    assert _paths(workspace) == [
        "/Acme Inc",
        "/Acme Inc/Branch A",
        "/Acme Inc/Branch A/Team 1",
        "/Acme Inc/Branch A/Team 1/Desk",
        "/Acme Inc/Branch B",
    ]


def test_moving_a_unit_moves_its_descendants(workspace, org_units, deep, owner, as_user):
    response = as_user(owner).post(
        _edit(deep), {"name": "Team 1", "parent": org_units["/acme/Branch B"].pk}
    )

    assert response.status_code == 302
    deep.refresh_from_db()
    assert deep.parent == org_units["/acme/Branch B"]
    assert _paths(workspace) == [
        "/acme",
        "/acme/Branch A",
        "/acme/Branch B",
        "/acme/Branch B/Team 1",
        "/acme/Branch B/Team 1/Desk",
    ]
    desk = workspace.org_units.get(name="Desk")
    assert desk.parent == deep


def test_a_unit_can_move_to_the_top_level(workspace, org_units, deep, owner, as_user):
    response = as_user(owner).post(_edit(deep), {"name": "Team 1", "parent": ""})

    assert response.status_code == 302
    assert "/Team 1/Desk" in _paths(workspace)


def test_the_parent_choices_leave_out_the_unit_and_its_descendants(
    workspace, org_units, deep, owner, as_user
):
    branch = org_units["/acme/Branch A"]

    response = as_user(owner).get(_edit(branch))

    choices = [unit.path for unit in response.context["form"].fields["parent"].queryset]
    assert choices == ["/acme", "/acme/Branch B"]
    block = _field_block(response.text, "parent")
    assert "Team 1" not in block and "Branch A" not in block and "Branch B" in block


@pytest.mark.parametrize("target", ["/acme/Branch A", "/acme/Branch A/Team 1/Desk"])
def test_a_unit_cannot_move_below_itself(target, workspace, org_units, deep, owner, as_user):
    branch = org_units["/acme/Branch A"]
    before = _tree(workspace)

    response = as_user(owner).post(
        _edit(branch), {"name": "Branch A", "parent": workspace.org_units.get(path=target).pk}
    )

    assert response.status_code == 200
    assert "Select a valid choice" in _field_block(response.text, "parent")
    assert _tree(workspace) == before


def test_a_name_with_a_slash_is_refused(workspace, org_units, owner, as_user):
    before = _tree(workspace)
    client = as_user(owner)

    created = client.post(_create(), {"name": "a/b", "parent": ""})
    renamed = client.post(
        _edit(org_units["/acme/Branch B"]), {"name": "B/C", "parent": org_units["/acme"].pk}
    )

    for response in (created, renamed):
        assert response.status_code == 200
        assert "cannot contain &#x27;/&#x27;" in _field_block(response.text, "name")
    assert _tree(workspace) == before


def test_a_duplicate_path_is_refused_next_to_the_name(workspace, org_units, deep, owner, as_user):
    before = _tree(workspace)
    client = as_user(owner)

    created = client.post(_create(), {"name": "Branch A", "parent": org_units["/acme"].pk})
    renamed = client.post(
        _edit(org_units["/acme/Branch B"]), {"name": "Branch A", "parent": org_units["/acme"].pk}
    )
    moved = client.post(_edit(deep), {"name": "Branch B", "parent": org_units["/acme"].pk})

    for response in (created, renamed, moved):
        assert response.status_code == 200
        assert "There is already a unit at /acme/Branch" in _field_block(response.text, "name")
    assert _tree(workspace) == before


def test_a_refused_change_shows_the_unit_as_it_still_is(workspace, org_units, owner, as_user):
    branch_b = org_units["/acme/Branch B"]

    response = as_user(owner).post(
        _edit(branch_b), {"name": "Branch A", "parent": org_units["/acme"].pk}
    )

    assert "Rename or move /acme/Branch B" in response.text
    assert 'value="Branch A"' in _field_block(response.text, "name")  # what was typed


def test_a_parent_of_another_workspace_is_refused(
    workspace, other_workspace, org_units, owner, as_user
):
    foreign = OrgUnitFactory(workspace=other_workspace, name="globex")

    response = as_user(owner).post(_create(), {"name": "Spy", "parent": foreign.pk})

    assert response.status_code == 200
    assert "Select a valid choice" in _field_block(response.text, "parent")
    assert not OrgUnit.objects.filter(name="Spy").exists()


def test_the_same_path_is_allowed_in_another_workspace(
    workspace, other_workspace, org_units, owner, as_user
):
    OrgUnitFactory(workspace=other_workspace, name="x")

    response = as_user(owner).post(_create(), {"name": "x", "parent": ""})

    assert response.status_code == 302
    assert workspace.org_units.filter(path="/x").exists()


def test_renaming_leaves_units_whose_paths_only_look_alike(workspace, org_units, owner, as_user):
    """A sibling with a longer name, or a tree differing only in case, is another subtree."""
    longer = OrgUnitFactory(workspace=workspace, name="Branch AB", parent=org_units["/acme"])
    OrgUnitFactory(workspace=workspace, name="Till", parent=longer)
    shouting = OrgUnitFactory(workspace=workspace, name="ACME")
    OrgUnitFactory(workspace=workspace, name="Shop", parent=shouting)
    client = as_user(owner)

    form = client.get(_edit(org_units["/acme"])).context["form"]
    choices = [unit.path for unit in form.fields["parent"].queryset]
    client.post(
        _edit(org_units["/acme/Branch A"]), {"name": "North", "parent": org_units["/acme"].pk}
    )
    client.post(_edit(org_units["/acme"]), {"name": "Acme Inc", "parent": ""})

    assert choices == ["/ACME", "/ACME/Shop"]
    assert _paths(workspace) == [
        "/ACME",
        "/ACME/Shop",
        "/Acme Inc",
        "/Acme Inc/Branch AB",
        "/Acme Inc/Branch AB/Till",
        "/Acme Inc/Branch B",
        "/Acme Inc/North",
    ]
