"""Settings -> Integrations: the workspace's Stripe account, connected or not, the ways to
connect one, who may see and use them, and the page's Content-Security-Policy (its form may
lead to Stripe Connect's authorize page, so `form-action` names that origin and no other)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from integrations.models import StripeConnection
from tests.factories import MembershipFactory, RoleFactory, StripeConnectionFactory, UserFactory

pytestmark = pytest.mark.django_db

CONNECT_BUTTON = "Connect with Stripe"
PASTE_LINK = "Paste a secret key"


def _url(slug: str = "acme") -> str:
    return reverse("integrations_settings", args=[slug])


def _form_action(response) -> list[str]:
    policy = response["Content-Security-Policy"]
    directives = {name: values for name, *values in (p.split() for p in policy.split(";"))}
    return directives["form-action"]


@pytest.fixture
def connect_configured(settings):
    settings.STRIPE_CONNECT_CLIENT_ID = "ca_settingsPage0001"
    settings.STRIPE_CONNECT_BASE = "https://connect.stripe.com"


def test_without_a_connection_an_owner_can_connect_with_stripe_or_paste_a_key(
    connect_configured, owner, as_user
):
    html = as_user(owner).get(_url()).content.decode()

    assert "Not connected." in html
    assert CONNECT_BUTTON in html
    assert f'action="{reverse("stripe_oauth_start", args=["acme"])}"' in html
    assert f'href="{reverse("stripe_connection_create", args=["acme"])}">{PASTE_LINK}' in html


def test_a_connected_account_is_listed_with_its_name_and_status(
    connect_configured, workspace, owner, as_user
):
    StripeConnectionFactory(
        workspace=workspace,
        account_name="Acme Dental",
        connected_via=StripeConnection.Via.OAUTH,
        health=StripeConnection.Health.AUTH_FAILED,
    )
    html = as_user(owner).get(_url()).content.decode()

    assert "Acme Dental" in html and "Stripe Connect" in html
    assert StripeConnection.Health.AUTH_FAILED.label in html
    assert "Not connected." not in html


def test_without_a_connect_client_id_there_is_only_the_paste_link(settings, owner, as_user):
    settings.STRIPE_CONNECT_CLIENT_ID = ""
    response = as_user(owner).get(_url())
    html = response.content.decode()

    assert CONNECT_BUTTON not in html and PASTE_LINK in html
    assert _form_action(response) == ["'self'"]


def test_staff_see_the_status_but_no_way_to_connect(connect_configured, staff, as_user):
    html = as_user(staff).get(_url()).content.decode()

    assert "Not connected." in html
    assert CONNECT_BUTTON not in html and PASTE_LINK not in html
    assert "Ask someone with the stripe=* permission (an Owner) to connect" in html


def test_a_member_with_stripe_all_gets_the_buttons(connect_configured, workspace, as_user):
    user = UserFactory(username="ops@acme.test")
    role = RoleFactory(workspace=workspace, name="Stripe admin", permissions=["stripe=*"])
    MembershipFactory(user=user, workspace=workspace, roles=[role])

    html = as_user(user).get(_url()).content.decode()

    assert CONNECT_BUTTON in html and PASTE_LINK in html


def test_a_member_without_stripe_view_gets_403(connect_configured, payer, as_user):
    assert as_user(payer).get(_url()).status_code == 403


def test_another_workspaces_member_gets_404(connect_configured, workspace, outsider, as_user):
    assert as_user(outsider).get(_url()).status_code == 404


def test_it_only_answers_get(connect_configured, owner, as_user):
    assert as_user(owner).post(_url()).status_code == 405


def test_the_settings_area_has_general_and_integrations_tabs(connect_configured, owner, as_user):
    client = as_user(owner)
    for url in [_url(), reverse("workspace_settings", args=["acme"])]:
        html = client.get(url).content.decode()
        assert f'href="{reverse("workspace_settings", args=["acme"])}"' in html
        assert f'href="{_url()}"' in html
        assert 'aria-label="Settings"' in html


def test_staff_reach_integrations_from_the_sidebars_settings_link(
    connect_configured, staff, as_user
):
    html = as_user(staff).get(reverse("workspace_home", args=["acme"])).content.decode()

    assert f'<a href="{_url()}" >Settings</a>' in html
    # Staff do not manage the workspace: no General tab on the Integrations page.
    page = as_user(staff).get(_url()).content.decode()
    assert f'href="{reverse("workspace_settings", args=["acme"])}"' not in page
    assert ">General</a>" not in page


# --- the Content-Security-Policy ---------------------------------------------------------


def test_the_connect_pages_allow_exactly_connects_origin_in_form_action(
    connect_configured, owner, as_user
):
    client = as_user(owner)
    for url in [_url(), reverse("stripe_connection_create", args=["acme"])]:
        assert _form_action(client.get(url)) == ["'self'", "https://connect.stripe.com"], url


def test_the_connect_origin_follows_the_configured_connect_base(
    connect_configured, settings, owner, as_user
):
    settings.STRIPE_CONNECT_BASE = "http://127.0.0.1:12111"

    assert _form_action(as_user(owner).get(_url())) == ["'self'", "http://127.0.0.1:12111"]


def test_other_pages_keep_form_action_self(connect_configured, owner, as_user):
    client = as_user(owner)
    for name in ["workspace_home", "workspace_settings", "contact_list", "member_list"]:
        response = client.get(reverse(name, args=["acme"]))
        assert response.status_code == 200, name
        assert _form_action(response) == ["'self'"], name


def test_refused_requests_do_not_widen_form_action(connect_configured, payer, as_user):
    response = as_user(payer).get(_url())

    assert response.status_code == 403 and _form_action(response) == ["'self'"]
