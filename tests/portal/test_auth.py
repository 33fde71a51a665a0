"""Logging in and out, resetting a password, and the home page that picks a workspace."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.urls import reverse

from portal import perms
from tests.factories import PASSWORD, MembershipFactory, UserFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db


# --- log in and out -------------------------------------------------------------------------


def test_the_login_page_renders_with_a_reset_link(client):
    response = client.get(reverse("login"))

    assert response.status_code == 200
    assert 'name="username"' in response.text and 'name="password"' in response.text
    assert reverse("password_reset") in response.text


def test_a_page_of_the_portal_sends_anonymous_users_to_log_in(client, workspace):
    response = client.get(reverse("contact_list", args=["acme"]))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login") + "?next=")


def test_a_wrong_password_shows_an_error_and_logs_nobody_in(client, owner):
    response = client.post(
        reverse("login"), {"username": "owner@acme.test", "password": "wrong-password"}
    )

    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.text
    assert SESSION_KEY not in client.session


def test_the_right_password_logs_in_and_opens_the_workspace(client, owner):
    response = client.post(reverse("login"), {"username": "owner@acme.test", "password": PASSWORD})

    assert response.status_code == 302
    assert response.url == reverse("home")
    assert int(client.session[SESSION_KEY]) == owner.pk
    assert client.get(response.url).url == reverse("workspace_home", args=["acme"])


def test_login_goes_back_to_the_page_asked_for(client, staff):
    wanted = reverse("contact_list", args=["acme"])

    response = client.post(
        reverse("login") + f"?next={wanted}",
        {"username": "staff@acme.test", "password": PASSWORD, "next": wanted},
    )

    assert response.url == wanted


def test_logout_is_a_post(as_user, owner):
    client = as_user(owner)

    assert client.get(reverse("logout")).status_code == 405
    assert SESSION_KEY in client.session

    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert response.url == reverse("login")
    assert SESSION_KEY not in client.session


def test_every_page_offers_a_logout_form(as_user, owner):
    response = as_user(owner).get(reverse("workspace_home", args=["acme"]))

    assert f'method="post" action="{reverse("logout")}"' in response.text


# --- password reset -------------------------------------------------------------------------


def test_a_password_reset_email_lets_the_user_choose_a_new_password(client, owner):
    response = client.post(reverse("password_reset"), {"email": "OWNER@acme.test"})

    assert response.status_code == 302
    assert response.url == reverse("password_reset_done")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["owner@acme.test"]
    link = re.search(r"https?://testserver(/accounts/reset/\S+/)", mail.outbox[0].body).group(1)

    form_page = client.get(link, follow=True)
    assert "Choose a new password" in form_page.text
    set_url = form_page.redirect_chain[-1][0]
    done = client.post(
        set_url, {"new_password1": "brand-new-passphrase", "new_password2": "brand-new-passphrase"}
    )
    assert done.status_code == 302
    assert done.url == reverse("password_reset_complete")

    assert not client.login(username="owner@acme.test", password=PASSWORD)
    logged_in = client.post(
        reverse("login"), {"username": "owner@acme.test", "password": "brand-new-passphrase"}
    )
    assert logged_in.status_code == 302
    assert int(client.session[SESSION_KEY]) == owner.pk
    # The link works once.
    assert "This link no longer works" in client.get(link, follow=True).text


def test_a_reset_for_an_unknown_email_sends_nothing_and_says_the_same(client, owner):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})

    assert response.status_code == 302
    assert response.url == reverse("password_reset_done")
    assert mail.outbox == []


def test_mismatched_new_passwords_are_refused(client, owner):
    client.post(reverse("password_reset"), {"email": "owner@acme.test"})
    link = re.search(r"https?://testserver(/accounts/reset/\S+/)", mail.outbox[0].body).group(1)
    set_url = client.get(link, follow=True).redirect_chain[-1][0]

    response = client.post(
        set_url, {"new_password1": "brand-new-passphrase", "new_password2": "other-passphrase"}
    )

    assert response.status_code == 200
    assert "didn’t match" in response.text
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)


# --- home: choosing a workspace -------------------------------------------------------------


def test_home_opens_the_only_workspace(as_user, owner):
    response = as_user(owner).get(reverse("home"))

    assert response.status_code == 302
    assert response.url == reverse("workspace_home", args=["acme"])


def test_home_lists_every_workspace_of_the_user(as_user, owner, other_workspace):
    MembershipFactory(user=owner, workspace=other_workspace, roles=[perms.VIEWER])

    response = as_user(owner).get(reverse("home"))

    assert response.status_code == 200
    main = response.text.split('<main id="main">')[1]
    assert reverse("workspace_home", args=["acme"]) in main
    assert reverse("workspace_home", args=["globex"]) in main


def test_home_without_a_workspace_says_so(as_user):
    lonely = UserFactory(username="lonely@example.com")

    response = as_user(lonely).get(reverse("home"))

    assert response.status_code == 200
    assert "You are not a member of any workspace yet." in response.text


def test_the_switcher_lists_only_the_users_workspaces(as_user, owner, other_workspace):
    WorkspaceFactory(name="Initech", slug="initech")

    response = as_user(owner).get(reverse("workspace_home", args=["acme"]))

    header = response.text.split("<header")[1].split("</header>")[0]
    assert reverse("workspace_home", args=["acme"]) in header
    assert "Globex" not in header and "Initech" not in header
    assert 'aria-current="page">Acme<' in header


def test_the_switcher_lists_every_workspace_of_a_member_of_two(as_user, owner, other_workspace):
    MembershipFactory(user=owner, workspace=other_workspace, roles=[perms.VIEWER])
    WorkspaceFactory(name="Initech", slug="initech")

    response = as_user(owner).get(reverse("workspace_home", args=["globex"]))

    header = response.text.split("<header")[1].split("</header>")[0]
    assert ">Acme<" in header and 'aria-current="page">Globex<' in header
    assert "Initech" not in header


def test_an_invited_user_who_lost_the_invite_can_ask_for_a_new_link(client, workspace):
    invited = UserFactory(username="invited@example.com")
    invited.set_unusable_password()
    invited.save()
    MembershipFactory(user=invited, workspace=workspace, roles=[perms.VIEWER])

    response = client.post(reverse("password_reset"), {"email": "invited@example.com"})

    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"https?://testserver(/accounts/reset/\S+/)", mail.outbox[0].body).group(1)
    set_url = client.get(link, follow=True).redirect_chain[-1][0]
    client.post(
        set_url, {"new_password1": "a-chosen-passphrase", "new_password2": "a-chosen-passphrase"}
    )
    assert client.login(username="invited@example.com", password="a-chosen-passphrase")


def test_an_inactive_user_gets_no_reset_email(client, owner):
    owner.is_active = False
    owner.save()

    client.post(reverse("password_reset"), {"email": "owner@acme.test"})

    assert mail.outbox == []


def test_reset_links_to_one_address_are_limited_and_the_page_reads_the_same(client, owner):
    """A dozen requests in a second sent a dozen e-mails; now the owner of the address gets
    three an hour, and the asker sees the usual page either way."""
    for n in range(5):
        response = client.post(
            reverse("password_reset"),
            {"email": "owner@acme.test"},
            REMOTE_ADDR=f"198.51.100.{n}",  # from several addresses: the e-mail's own limit
        )
        assert response.status_code == 302 and response.url == reverse("password_reset_done")
    assert len(mail.outbox) == 3


def test_one_address_asking_too_often_is_told_to_wait_and_nothing_is_sent(client, owner):
    for n in range(5):
        client.post(reverse("password_reset"), {"email": f"someone{n}@example.com"})
    response = client.post(reverse("password_reset"), {"email": "owner@acme.test"})
    assert response.status_code == 429
    assert "Please wait 15 minutes" in response.text
    assert mail.outbox == []
    other = client.post(
        reverse("password_reset"), {"email": "owner@acme.test"}, REMOTE_ADDR="203.0.113.9"
    )
    assert other.status_code == 302 and len(mail.outbox) == 1
