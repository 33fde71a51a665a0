"""The foundation journey in Chromium: log in, switch workspace, add a contact."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from portal import perms
from portal.models import Contact
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory


def test_staff_logs_in_switches_workspace_and_adds_a_contact(live_server, page, login, screenshot):
    user = UserFactory(username="olivia@agency.test")
    acme = WorkspaceFactory(name="Acme Dental", slug="acme-dental")
    bright = WorkspaceFactory(name="Bright Smiles", slug="bright-smiles")
    MembershipFactory(user=user, workspace=acme, roles=[perms.OWNER])
    MembershipFactory(user=user, workspace=bright, roles=[perms.STAFF])

    login(page, user)
    expect(page.get_by_role("heading", name="Your workspaces")).to_be_visible()

    page.get_by_role("link", name="Acme Dental").first.click()
    expect(page.get_by_role("heading", name="Acme Dental")).to_be_visible()

    switcher = page.get_by_test_id("workspace-switcher")
    switcher.locator("summary").click()
    switcher.get_by_role("link", name="Bright Smiles").click()
    expect(page).to_have_url(re.compile(r"/w/bright-smiles/$"))
    expect(page.get_by_role("heading", name="Bright Smiles")).to_be_visible()

    page.get_by_role("navigation", name="Workspace").get_by_role("link", name="Contacts").click()
    expect(page.get_by_text("No contacts yet")).to_be_visible()
    page.get_by_role("link", name="Add contact").click()

    page.get_by_label("Name").fill("Jane Cooper")
    page.get_by_label("E-mail").fill("not-an-email")
    page.get_by_role("button", name="Save contact").click()
    expect(page.get_by_text("Enter a valid email address.")).to_be_visible()
    assert not Contact.objects.exists()

    page.get_by_label("E-mail").fill("jane@example.com")
    page.get_by_label("Custom fields").fill("lead_value = 150")
    page.get_by_role("button", name="Save contact").click()
    expect(page.get_by_text("Contact Jane Cooper saved.")).to_be_visible()
    expect(page.get_by_role("heading", name="Jane Cooper")).to_be_visible()
    expect(page.get_by_text("lead_value")).to_be_visible()

    contact = Contact.objects.get()
    assert contact.workspace == bright and contact.custom_fields == {"lead_value": "150"}

    page.get_by_role("link", name="← Contacts").click()
    page.get_by_role("searchbox", name="Search contacts").fill("cooper")
    expect(page.locator("#contact-results")).to_contain_text("jane@example.com")
    screenshot("journey-contacts")
