"""Invitations: joining a workspace needs the invitee's consent.

An owner invites by e-mail; the Members page shows the address only, with Resend and Revoke.
The invitee opens the e-mailed link (logging in, or choosing a password if they have no
account), sees who invites them to what, and accepts or declines. Only the person the address
names can answer; expired, revoked and used links say so.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portal import perms
from portal.models import Invitation, Membership
from tests.factories import PASSWORD, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

User = get_user_model()


@pytest.fixture
def send(as_user, owner, django_capture_on_commit_callbacks):
    """`send(email, roles=[...], org_unit=...)`: the owner, Olivia Owner, fills in the invite
    form; the e-mails go out (on commit). Returns the response, redirects followed."""
    owner.first_name, owner.last_name = "Olivia", "Owner"
    owner.save()
    client = as_user(owner)

    def post(email, roles=(perms.STAFF,), org_unit=None):
        workspace = owner.memberships.get().workspace
        data = {"email": email, "roles": [workspace.roles.get(name=r).pk for r in roles]}
        if org_unit is not None:
            data["org_unit"] = org_unit.pk
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("member_add", args=["acme"]), data, follow=True)

    return post


def _link(message) -> str:
    """The path of the invitation link in an e-mail."""
    return re.search(r"https?://[^/\s]+(/invitations/[^/\s]+/)", message.body).group(1)


def _accept(link: str) -> str:
    return link + "accept/"


def _decline(link: str) -> str:
    return link + "decline/"


def _grace():
    return UserFactory(username="grace@example.com", first_name="Grace", last_name="Hopper")


def _members(workspace) -> list[str]:
    return sorted(workspace.memberships.values_list("user__email", flat=True))


# --- inviting ------------------------------------------------------------------------------


def test_inviting_an_existing_user_adds_no_member_and_shows_only_the_address(
    workspace, owner, as_user, send
):
    _grace()

    page = send("  Grace@Example.com ")

    assert page.redirect_chain == [(reverse("member_list", args=["acme"]), 302)]
    assert "Invitation sent to grace@example.com." in page.text
    assert "grace@example.com" in page.text and "Invited" in page.text
    assert "Grace" not in page.text and "Hopper" not in page.text
    assert "grace@example.com" not in _members(workspace)
    (message,) = mail.outbox
    assert message.to == ["grace@example.com"]
    assert message.subject == "Olivia Owner invites you to join Acme on the Agency Portal"
    assert "as Staff" in message.body and "/invitations/" in message.body


def test_a_member_cannot_be_invited_again(workspace, staff, send):
    response = send("STAFF@acme.test")

    assert response.status_code == 200
    assert "staff@acme.test is already a member of this workspace." in response.text
    assert not Invitation.objects.exists() and mail.outbox == []


def test_inviting_again_while_pending_updates_and_resends_the_same_invitation(
    workspace, owner, org_units, as_user, send
):
    send("grace@example.com")
    page = send("GRACE@example.com", roles=[perms.VIEWER], org_unit=org_units["/acme/Branch A"])

    invitation = Invitation.objects.get()
    assert [r.name for r in invitation.roles.all()] == [perms.VIEWER]
    assert invitation.org_unit == org_units["/acme/Branch A"]
    assert "Invitation updated and sent again to grace@example.com." in page.text
    assert page.text.count("grace@example.com") == 2  # the message and the one row
    assert [m.to for m in mail.outbox] == [["grace@example.com"]] * 2
    assert _link(mail.outbox[0]) == _link(mail.outbox[1])


def test_resend_sends_the_link_again_with_a_new_expiry_and_no_second_invitation(
    workspace, owner, as_user, send, django_capture_on_commit_callbacks
):
    send("grace@example.com")
    invitation = Invitation.objects.get()
    Invitation.objects.update(expires_at=timezone.now() - timedelta(days=1))
    client = as_user(owner)
    assert "Invitation expired" in client.get(reverse("member_list", args=["acme"])).text

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("member_invitation_resend", args=["acme", invitation.uuid]), follow=True
        )

    assert "Invitation sent again to grace@example.com." in response.text
    assert "Invitation expired" not in response.text
    assert Invitation.objects.count() == 1
    assert Invitation.objects.get().expires_at > timezone.now() + timedelta(days=13)
    assert len(mail.outbox) == 2 and _link(mail.outbox[1]) == _link(mail.outbox[0])


# --- accepting -----------------------------------------------------------------------------


def test_the_invitee_logs_in_accepts_and_becomes_a_member_with_the_invited_roles(
    workspace, org_units, owner, send
):
    grace = _grace()
    send("grace@example.com", roles=[perms.STAFF, perms.VIEWER], org_unit=org_units["/acme"])
    link = _link(mail.outbox[0])
    browser = Client()

    to_login = browser.get(link)
    assert "invites you to join" in to_login.text and "Log in to answer" in to_login.text
    logged_in = browser.post(
        reverse("login") + f"?next={link}",
        {"username": "grace@example.com", "password": PASSWORD, "next": link},
        follow=True,
    )
    assert "Olivia Owner</strong> invites you to join <strong>Acme</strong>" in logged_in.text
    assert "as Staff and Viewer, in /acme." in logged_in.text
    joined = browser.post(_accept(link), follow=True)

    assert joined.redirect_chain[-1][0] == "/w/acme/"
    assert "You joined Acme." in joined.text
    membership = Membership.objects.get(user=grace, workspace=workspace)
    assert sorted(r.name for r in membership.roles.all()) == [perms.STAFF, perms.VIEWER]
    assert membership.org_unit == org_units["/acme"]
    assert Invitation.objects.get().status == Invitation.Status.ACCEPTED


def test_accepting_twice_makes_one_membership(workspace, owner, as_user, send):
    grace = _grace()
    send("grace@example.com")
    link, client = _link(mail.outbox[0]), as_user(grace)

    first = client.post(_accept(link))
    again = client.post(_accept(link), follow=True)

    assert first.status_code == 302 and again.redirect_chain[-1][0] == "/w/acme/"
    assert "You accepted this invitation already" in again.text
    assert Membership.objects.filter(user=grace, workspace=workspace).count() == 1
    back = client.get(link)  # the Back button
    assert "You accepted this invitation already" in back.text


def test_the_address_is_matched_without_case_and_unicode_folded(workspace, owner, as_user, send):
    send("Grace@Example.COM")
    grace = UserFactory(username="grace", email="grace@example.com")

    assert as_user(grace).post(_accept(_link(mail.outbox[0]))).status_code == 302
    assert Membership.objects.filter(user=grace, workspace=workspace).exists()


def test_another_logged_in_user_is_refused_and_nothing_changes(
    workspace, owner, outsider, as_user, send
):
    _grace()
    send("grace@example.com")
    link = _link(mail.outbox[0])
    before = _members(workspace)

    for client in (as_user(outsider), as_user(owner)):
        page = client.get(link)
        accepted = client.post(_accept(link))
        declined = client.post(_decline(link))
        for response in (page, accepted, declined):
            assert response.status_code == 403
            assert "This invitation is for someone else" in response.text
            assert "grace@example.com" not in response.text and "invites you" not in response.text

    assert _members(workspace) == before
    assert Invitation.objects.get().status == Invitation.Status.PENDING


def test_a_visitor_answering_is_sent_to_log_in_then_back_to_the_invitation(send, owner):
    send("grace@example.com")
    link = _link(mail.outbox[0])

    response = Client().post(_accept(link))

    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={link}"
    assert Invitation.objects.get().status == Invitation.Status.PENDING


# --- a person without an account ---------------------------------------------------------


def test_a_new_address_chooses_a_password_then_accepts(workspace, owner, send):
    send("New.Person@Example.com", roles=[perms.VIEWER])
    assert not User.objects.filter(email__iexact="new.person@example.com").exists()
    link = _link(mail.outbox[0])
    assert "choose a password first" in mail.outbox[0].body
    browser = Client()

    form = browser.get(link)
    assert "Choose a password for new.person@example.com" in form.text
    mismatch = browser.post(link, {"new_password1": "a-long-new-pass", "new_password2": "other"})
    assert "two password fields didn’t match" in mismatch.text
    chosen = browser.post(
        link,
        {"new_password1": "a-long-new-passphrase", "new_password2": "a-long-new-passphrase"},
        follow=True,
    )
    assert "invites you to join" in chosen.text and "Accept" in chosen.text
    assert not Membership.objects.filter(user__email="new.person@example.com").exists()
    browser.post(_accept(link))

    user = User.objects.get(email="new.person@example.com")
    assert [r.name for r in Membership.objects.get(user=user).roles.all()] == [perms.VIEWER]
    assert Client().login(username="new.person@example.com", password="a-long-new-passphrase")


def test_an_account_without_a_password_gets_it_from_the_invitation(
    workspace, other_workspace, send
):
    invited = UserFactory(username="invited@example.com")
    invited.set_unusable_password()
    invited.save()
    MembershipFactory(user=invited, workspace=other_workspace, roles=[perms.VIEWER])
    send("invited@example.com")

    Client().post(
        _link(mail.outbox[0]),
        {"new_password1": "a-long-new-passphrase", "new_password2": "a-long-new-passphrase"},
    )

    assert User.objects.filter(email__iexact="invited@example.com").count() == 1
    invited.refresh_from_db()
    assert invited.check_password("a-long-new-passphrase")


def test_an_account_with_a_password_is_never_changed_from_the_link(workspace, send):
    grace = _grace()
    send("grace@example.com")

    response = Client().post(
        _link(mail.outbox[0]),
        {"new_password1": "a-long-new-passphrase", "new_password2": "a-long-new-passphrase"},
    )

    assert response.status_code == 200
    assert "There is an account with this e-mail address already" in response.text
    grace.refresh_from_db()
    assert grace.check_password(PASSWORD)


# --- declining, revoking, expiry ------------------------------------------------------------


def test_decline_leaves_the_workspace_unchanged(workspace, owner, as_user, send):
    grace = _grace()
    send("grace@example.com")
    link, client = _link(mail.outbox[0]), as_user(grace)
    before = _members(workspace)

    response = client.post(_decline(link), follow=True)

    assert "You declined the invitation to Acme." in response.text
    assert _members(workspace) == before
    assert client.post(_accept(link)).status_code == 410
    assert "This invitation was declined" in client.get(link).text
    assert _members(workspace) == before
    listing = as_user(owner).get(reverse("member_list", args=["acme"]))
    assert "grace@example.com" not in listing.text


def test_revoke_asks_first_then_the_link_says_it_was_withdrawn(workspace, owner, as_user, send):
    grace = _grace()
    send("grace@example.com")
    invitation = Invitation.objects.get()
    client = as_user(owner)
    url = reverse("member_invitation_revoke", args=["acme", invitation.uuid])

    confirm = client.get(url)
    assert "Revoke the invitation of grace@example.com?" in confirm.text
    assert Invitation.objects.get().status == Invitation.Status.PENDING
    done = client.post(url, follow=True)

    assert "Invitation of grace@example.com revoked." in done.text
    refused = as_user(grace).post(_accept(_link(mail.outbox[0])))
    assert refused.status_code == 410 and "This invitation was withdrawn" in refused.text
    assert "grace@example.com" not in _members(workspace)


def test_an_expired_link_says_so_and_cannot_be_accepted(workspace, as_user, send):
    grace = _grace()
    send("grace@example.com")
    Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    link = _link(mail.outbox[0])

    for response in (Client().get(link), as_user(grace).post(_accept(link))):
        assert response.status_code == 410
        assert "This invitation has expired" in response.text
        assert "Ask Olivia Owner to send it again." in response.text
    assert "grace@example.com" not in _members(workspace)


def test_an_unknown_link_is_not_found(client):
    assert client.get(reverse("invitation_detail", args=["not-a-real-token"])).status_code == 404


# --- the home page --------------------------------------------------------------------------


def test_home_lists_pending_invitations_with_their_answers(
    workspace, other_workspace, outsider, owner, send, as_user
):
    send("outsider@globex.test", roles=[perms.VIEWER])
    client = as_user(outsider)

    home = client.get(reverse("home"))  # one workspace, but an invitation: no redirect

    assert home.status_code == 200
    assert "Olivia Owner</strong> invites you to join <strong>Acme</strong>" in home.text
    assert "Accept" in home.text and "Decline" in home.text and "Globex" in home.text
    client.post(_decline(_link(mail.outbox[0])))
    assert client.get(reverse("home"))["Location"] == "/w/globex/"


# --- who may invite -------------------------------------------------------------------------


def test_a_member_without_workspace_manage_gets_403_and_nothing_changes(
    workspace, staff, as_user, send
):
    send("grace@example.com")
    invitation = Invitation.objects.get()
    client = as_user(staff)
    urls = [
        reverse("member_add", args=["acme"]),
        reverse("member_invitation_resend", args=["acme", invitation.uuid]),
        reverse("member_invitation_revoke", args=["acme", invitation.uuid]),
    ]

    statuses = [client.post(url, {"email": "x@example.com"}).status_code for url in urls]

    assert statuses == [403, 403, 403]
    assert Invitation.objects.get().status == Invitation.Status.PENDING
    assert Invitation.objects.count() == 1 and len(mail.outbox) == 1


def test_an_outsider_gets_404_even_through_their_own_workspace(workspace, outsider, as_user, send):
    send("grace@example.com")
    invitation = Invitation.objects.get()
    client = as_user(outsider)
    urls = [
        reverse("member_add", args=["acme"]),
        reverse("member_invitation_resend", args=["acme", invitation.uuid]),
        reverse("member_invitation_revoke", args=["acme", invitation.uuid]),
        reverse("member_invitation_resend", args=["globex", invitation.uuid]),
        reverse("member_invitation_revoke", args=["globex", invitation.uuid]),
    ]

    assert {client.post(url).status_code for url in urls} == {404}
    assert Invitation.objects.get().status == Invitation.Status.PENDING


def test_every_answer_needs_the_csrf_token(workspace, send):
    grace = _grace()
    send("grace@example.com")
    client = Client(enforce_csrf_checks=True)
    client.force_login(grace)

    response = client.post(_accept(_link(mail.outbox[0])))

    assert response.status_code == 403
    assert not Membership.objects.filter(user=grace).exists()
