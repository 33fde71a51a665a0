"""The audit trail: the entries (append-only, kept when what they name is gone, nothing
secret), the changes of members, invitations and roles, and the owners' Audit log page
(permissions, filters, pagination, the viewer's zone)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from integrations.services import connection_create_from_key
from portal import perms
from portal.audit import audit_record
from portal.models import AuditEntry, Invitation, Membership
from tests.audit_helpers import CLIENT_ADDRESS, entries, everything_stored, only, shows_part_of
from tests.factories import UserFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db

Action = AuditEntry.Action
LOG = reverse("audit_log", args=["acme"])


def _entry(workspace, actor="system", **fields) -> AuditEntry:
    values = {"action": Action.ROLE_UPDATE, "summary": "Changed the role Staff",
              "address": "198.51.100.4", **fields}  # fmt: skip
    return audit_record(workspace=workspace, actor=actor, **values)


# --- the entries ---------------------------------------------------------------------------


def test_an_entry_cannot_be_changed_or_deleted(workspace, owner):
    entry = _entry(workspace, owner)
    entry.summary = "Nothing happened"
    with pytest.raises(AuditEntry.AppendOnly):
        entry.save()
    with pytest.raises(AuditEntry.AppendOnly):
        entry.delete()
    with pytest.raises(AuditEntry.AppendOnly):
        AuditEntry.objects.filter(pk=entry.pk).update(summary="Nothing happened")
    with pytest.raises(AuditEntry.AppendOnly):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.get().summary == "Changed the role Staff"


def test_entries_outlive_their_workspace_and_their_actor(db):
    workspace, user = WorkspaceFactory(name="Gone Ltd", slug="gone"), UserFactory()
    _entry(workspace, user)
    label = user.email or user.username
    user.delete()
    workspace.delete()
    entry = AuditEntry.objects.get()
    assert (entry.workspace, entry.actor) == (None, None)
    assert (entry.workspace_name, entry.workspace_slug) == ("Gone Ltd", "gone")
    assert entry.actor_label == label and entry.address == "198.51.100.4"


def test_who_is_a_user_a_workflow_or_the_system(workspace, owner):
    assert _entry(workspace, owner).actor_label == "owner@acme.test"
    assert _entry(workspace, "workflow Pay per lead").actor_label == "workflow Pay per lead"
    assert _entry(workspace, None).actor_label == "system"
    assert _entry(workspace, None, address="not an address").address is None


def test_whatever_looks_secret_is_masked_whoever_passes_it(workspace):
    key, hook = "sk_live_51SecretKeyOfTheClient0123WXYZ", "whsec_SigningSecret0123456789"
    entry = _entry(
        workspace,
        summary=f"Pasted {key}",
        changes={"key": {"before": None, "after": key}, "hook": hook,
                 "intent": "pi_3Abc_secret_Def456", "card": "4242 4242 4242 4242"},
    )  # fmt: skip
    assert entry.summary == "Pasted sk_live_...WXYZ"
    assert entry.changes["key"]["after"] == "sk_live_...WXYZ"
    assert entry.changes["hook"] == "whsec_..." and entry.changes["card"] == "[card number]"
    assert entry.changes["intent"] == "[client secret]"
    stored = everything_stored()
    assert not shows_part_of(stored, key) and not shows_part_of(stored, hook)


def test_the_admin_shows_entries_read_only(workspace, owner, as_user):
    root = UserFactory(username="root@agency.test", is_superuser=True, is_staff=True)
    entry = _entry(workspace, owner)
    client = as_user(root)
    assert client.get(reverse("admin:portal_auditentry_changelist")).status_code == 200
    change = client.get(reverse("admin:portal_auditentry_change", args=[entry.pk]))
    assert change.status_code == 200 and 'name="_save"' not in change.text
    assert client.get(reverse("admin:portal_auditentry_add")).status_code == 403
    assert (
        client.post(reverse("admin:portal_auditentry_delete", args=[entry.pk])).status_code == 403
    )
    assert AuditEntry.objects.get().summary == entry.summary


# --- members, invitations, roles -------------------------------------------------------------


def _invite(client, workspace, email, role=perms.STAFF, capture=None):
    data = {"email": email, "roles": [workspace.roles.get(name=role).pk]}
    with capture(execute=True):
        return client.post(reverse("member_add", args=["acme"]), data)


def test_inviting_resending_and_revoking_are_recorded(
    workspace, owner, as_user, django_capture_on_commit_callbacks
):
    client = as_user(owner)
    _invite(client, workspace, "grace@example.com", capture=django_capture_on_commit_callbacks)
    invitation = Invitation.objects.get()
    client.post(reverse("member_invitation_resend", args=["acme", invitation.uuid]))
    client.post(reverse("member_invitation_revoke", args=["acme", invitation.uuid]))
    client.post(reverse("member_invitation_revoke", args=["acme", invitation.uuid]))  # 404 now

    invited, resent, revoked = entries(prefix="member.")
    assert [e.action for e in (invited, resent, revoked)] == [
        Action.MEMBER_INVITE, Action.MEMBER_INVITE_RESEND, Action.MEMBER_INVITE_REVOKE
    ]  # fmt: skip
    assert all((e.actor, e.address) == (owner, CLIENT_ADDRESS) for e in entries())
    assert invited.summary == "Invited grace@example.com as Staff"
    assert invited.changes == {"roles": {"before": None, "after": ["Staff"]}}
    assert revoked.summary == "Revoked the invitation of grace@example.com"
    assert invitation.token not in everything_stored()  # the link's secret stays out
    assert re.search(invitation.token, mail.outbox[0].body)


def test_accepting_is_recorded_as_the_invitees(
    workspace, owner, as_user, django_capture_on_commit_callbacks
):
    grace = UserFactory(username="grace@example.com")
    _invite(as_user(owner), workspace, "grace@example.com",
            capture=django_capture_on_commit_callbacks)  # fmt: skip
    token = Invitation.objects.get().token
    assert as_user(grace).post(reverse("invitation_accept", args=[token])).status_code == 302

    entry = only(Action.MEMBER_INVITE_ACCEPT)
    assert (entry.actor, entry.address) == (grace, CLIENT_ADDRESS)
    assert entry.summary == "grace@example.com accepted the invitation and joined as Staff"
    assert entry.object_type == "portal.membership"


def test_someone_else_cannot_accept_and_nothing_is_recorded(
    workspace, owner, staff, as_user, django_capture_on_commit_callbacks
):
    _invite(as_user(owner), workspace, "grace@example.com",
            capture=django_capture_on_commit_callbacks)  # fmt: skip
    token = Invitation.objects.get().token
    as_user(staff).post(reverse("invitation_accept", args=[token]))
    assert entries(Action.MEMBER_INVITE_ACCEPT) == []


def test_changing_roles_then_removing_a_member_are_recorded_and_outlive_it(
    workspace, owner, staff, org_units, as_user
):
    client = as_user(owner)
    membership = staff.memberships.get()
    edit = reverse("member_edit", args=["acme", membership.uuid])
    roles = [workspace.roles.get(name=name).pk for name in (perms.STAFF, perms.INVOICE_PAYER)]
    client.post(edit, {"roles": roles, "org_unit": org_units["/acme"].pk})
    client.post(edit, {"roles": roles, "org_unit": org_units["/acme"].pk})  # the same: no entry
    client.post(reverse("member_remove", args=["acme", membership.uuid]))
    assert not Membership.objects.filter(pk=membership.pk).exists()

    changed, removed = entries(prefix="member.")
    assert changed.action == Action.MEMBER_UPDATE
    assert changed.summary == "Changed the roles of staff@acme.test"
    assert changed.changes == {
        "roles": {"before": ["Staff"], "after": ["Invoice Payer", "Staff"]}
    }  # fmt: skip
    assert removed.action == Action.MEMBER_REMOVE
    assert removed.summary == "Removed staff@acme.test from the workspace"
    assert removed.changes["roles"] == {"before": ["Invoice Payer", "Staff"], "after": None}
    assert changed.object_id == removed.object_id == str(membership.uuid)
    assert all((e.actor, e.address) == (owner, CLIENT_ADDRESS) for e in (changed, removed))


def test_refused_member_changes_record_nothing(workspace, owner, as_user):
    client = as_user(owner)
    membership = owner.memberships.get()
    staff_role = workspace.roles.get(name=perms.STAFF).pk
    # The last member who can manage the workspace can neither lose it nor leave.
    client.post(reverse("member_edit", args=["acme", membership.uuid]), {"roles": [staff_role]})
    assert client.post(reverse("member_remove", args=["acme", membership.uuid])).status_code == 400
    assert entries(prefix="member.") == []


def test_roles_made_and_changed_are_recorded_with_their_permissions(workspace, owner, as_user):
    client = as_user(owner)
    client.post(reverse("role_create", args=["acme"]),
                {"name": "Bookkeeper", "permissions": [perms.STRIPE_VIEW]})  # fmt: skip
    role = workspace.roles.get(name="Bookkeeper")
    edit = reverse("role_edit", args=["acme", role.uuid])
    permissions = [perms.STRIPE_VIEW, perms.BILLING_CHARGE]
    client.post(edit, {"name": "Bookkeeper", "permissions": permissions})
    client.post(edit, {"name": "Bookkeeper", "permissions": permissions})  # unchanged
    client.post(edit, {"name": perms.STAFF, "permissions": permissions})  # taken: refused

    created, changed = entries(prefix="role.")
    assert created.action == Action.ROLE_CREATE and created.summary == "Created the role Bookkeeper"
    assert created.changes["permissions"] == {"before": None, "after": ["stripe=view"]}
    assert changed.action == Action.ROLE_UPDATE
    assert changed.changes == {
        "permissions": {"before": ["stripe=view"], "after": ["billing=charge", "stripe=view"]}
    }  # fmt: skip
    assert all((e.actor, e.address) == (owner, CLIENT_ADDRESS) for e in (created, changed))


# --- the page --------------------------------------------------------------------------------


def test_owners_see_the_page_and_its_link_others_do_not(workspace, owner, staff, outsider, as_user):
    _entry(workspace, owner)
    page = as_user(owner).get(LOG)
    assert page.status_code == 200 and "Changed the role Staff" in page.text
    assert f'href="{LOG}"' in as_user(owner).get(reverse("workspace_home", args=["acme"])).text
    assert f'href="{LOG}"' not in as_user(staff).get(reverse("workspace_home", args=["acme"])).text
    assert as_user(staff).get(LOG).status_code == 403
    assert as_user(outsider).get(LOG).status_code == 404
    assert as_user(owner).post(LOG).status_code == 405


def test_the_page_shows_who_when_where_and_what_changed_newest_first(workspace, owner, as_user):
    _entry(workspace, owner, summary="First", changes={"roles": {"before": ["Viewer"],
                                                                  "after": ["Staff"]}})  # fmt: skip
    _entry(workspace, "workflow Pay per lead", summary="Second", address=None)
    html = as_user(owner).get(LOG).text
    assert html.index("Second") < html.index("First")
    assert "owner@acme.test" in html and "workflow Pay per lead" in html
    assert "<code>198.51.100.4</code>" in html
    assert "Viewer → Staff" in html


def test_times_and_days_are_the_viewers(workspace, owner, as_user):
    # 03:00 UTC on 2 March is 22:00 on 1 March in New York.
    _entry(workspace, owner, summary="Late")
    AuditEntry.objects.create(
        workspace=workspace, actor_label="system", action=Action.ROLE_UPDATE, summary="Late UTC",
        created_at=datetime(2026, 3, 2, 3, 0, tzinfo=UTC),
    )  # fmt: skip
    client = as_user(owner)
    client.cookies["tz"] = "America/New_York"
    html = client.get(LOG, {"since": "2026-03-01", "until": "2026-03-01"}).text
    assert "Late UTC" in html and 'datetime="2026-03-01T22:00:00-05:00"' in html
    client.cookies["tz"] = "UTC"
    html = client.get(LOG, {"since": "2026-03-01", "until": "2026-03-01"}).text
    assert "Late UTC" not in html and "Nothing recorded matches these filters" in html


def test_the_filters_by_action_and_person(workspace, owner, staff, as_user):
    _entry(workspace, owner, summary="Role change by the owner")
    _entry(workspace, staff, action=Action.PAYMENT_CHARGE, summary="Charge by staff")
    _entry(workspace, "workflow Pay per lead", action=Action.PAYMENT_CHARGE, summary="Fee")
    client = as_user(owner)

    charges = client.get(LOG, {"action": Action.PAYMENT_CHARGE}).text
    assert (
        "Charge by staff" in charges
        and "Fee" in charges
        and "Role change by the owner" not in charges
    )
    by_staff = client.get(LOG, {"person": "staff@acme.test"}).text
    assert "Charge by staff" in by_staff and "Fee" not in by_staff
    everyone = client.get(LOG).context["filters"].fields["person"].choices
    assert [label for label, _ in everyone] == [
        "", "owner@acme.test", "staff@acme.test", "workflow Pay per lead"
    ]  # fmt: skip
    refused = client.get(LOG, {"since": "2026-03-02", "until": "2026-03-01"})
    assert refused.status_code == 200 and "The first day comes after the last." in refused.text


def test_the_page_is_paginated_keeping_the_filters(workspace, owner, as_user, settings):
    settings.PORTAL_PAGE_SIZE = 25
    for number in range(30):
        _entry(workspace, owner, summary=f"Change {number:02d}")
    _entry(workspace, owner, action=Action.PAYMENT_REFUND, summary="A refund")
    client = as_user(owner)
    first = client.get(LOG, {"action": Action.ROLE_UPDATE})
    assert first.context["page"].paginator.count == 30 and "Change 29" in first.text
    assert "page=2" in first.text and "action=role.update&amp;page=2" in first.text
    second = client.get(LOG, {"action": Action.ROLE_UPDATE, "page": "2"})
    assert len(second.context["page"].object_list) == 5 and "Change 00" in second.text
    assert "A refund" not in first.text + second.text


def test_other_workspaces_entries_are_not_shown(workspace, other_workspace, owner, as_user):
    _entry(other_workspace, None, summary="Entry of Globex")
    assert "Entry of Globex" not in as_user(owner).get(LOG).text


def test_the_page_shows_no_secret_of_a_connected_account(sandbox, workspace, owner, as_user):
    secret, publishable, _ = sandbox.new_account(name="Acme Dental")
    connection_create_from_key(workspace=workspace, secret_key=secret,
                               publishable_key=publishable, actor=owner)  # fmt: skip
    html = as_user(owner).get(LOG).text
    assert "Connected Stripe account Acme Dental (test mode)" in html
    assert f"sk_test_...{secret[-4:]}" in html
    assert not shows_part_of(html, secret) and not shows_part_of(html, publishable)


def test_an_entry_without_a_user_keeps_its_label_on_the_page(workspace, owner, as_user):
    departed = UserFactory(username="gone@acme.test")
    _entry(workspace, departed, summary="Before leaving")
    get_user_model().objects.filter(pk=departed.pk).delete()
    assert "gone@acme.test" in as_user(owner).get(LOG).text
