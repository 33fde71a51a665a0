"""An invitation in Chromium: the owner invites an existing user, who logs in, finds the
invitation on their home page, accepts it and is in the workspace."""

from __future__ import annotations

import re
from pathlib import Path

from django.core import mail
from playwright.sync_api import expect

from portal import perms
from portal.models import Membership
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def test_an_invited_user_logs_in_finds_the_invitation_at_home_and_accepts(
    live_server, page, login, settings
):
    settings.SITE_URL = live_server.url
    owner = UserFactory(username="olivia@agency.test", first_name="Olivia", last_name="Owner")
    grace = UserFactory(username="grace@example.com", first_name="Grace", last_name="Hopper")
    acme = WorkspaceFactory(name="Acme Dental", slug="acme-dental")
    MembershipFactory(user=owner, workspace=acme, roles=[perms.OWNER])

    login(page, owner)
    page.get_by_role("navigation", name="Workspace").get_by_role("link", name="Members").click()
    page.get_by_role("link", name="Invite member").click()
    page.get_by_label("E-mail").fill("Grace@Example.com")
    page.get_by_label(perms.STAFF, exact=True).check()
    page.get_by_role("button", name="Send invitation").click()

    expect(page.get_by_text("Invitation sent to grace@example.com.")).to_be_visible()
    invited = page.get_by_test_id("invitations")
    expect(invited).to_contain_text("grace@example.com")
    expect(invited).to_contain_text("Invited")
    expect(page.locator("main")).not_to_contain_text("Grace")  # not her name: she said nothing yet
    assert not Membership.objects.filter(user=grace).exists()
    (message,) = mail.outbox
    link = re.search(r"https?://\S+/invitations/\S+/", message.body).group(0)

    page.get_by_role("button", name="Log out").click()
    page.goto(link)  # logged out, the link offers to log in (or to choose a password)
    expect(page.get_by_role("link", name="Log in to answer")).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "invitation-visitor.png"), full_page=True)

    login(page, grace)
    offer = page.get_by_test_id("invitations")
    expect(offer).to_contain_text("Olivia Owner invites you to join Acme Dental as Staff.")
    expect(offer.get_by_role("button", name="Decline")).to_be_visible()

    page.goto(link)  # the e-mailed link shows the same offer
    expect(page.get_by_role("heading", name="Join Acme Dental")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "invitation.png"), full_page=True)

    page.get_by_role("link", name="Agency Portal").click()
    page.get_by_test_id("invitations").get_by_role("button", name="Accept").click()

    expect(page).to_have_url(re.compile(r"/w/acme-dental/$"))
    expect(page.get_by_text("You joined Acme Dental.")).to_be_visible()
    expect(page.get_by_role("heading", name="Acme Dental")).to_be_visible()
    membership = Membership.objects.get(user=grace, workspace=acme)
    assert [role.name for role in membership.roles.all()] == [perms.STAFF]
