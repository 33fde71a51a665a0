"""Contacts: search, pagination, the htmx partial, create and edit with errors next to fields.

Who may open which page (200/403/404 on GET) is in test_access.py; these tests cover what the
pages do.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal.models import Contact
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def _list_url(slug="acme"):
    return reverse("contact_list", args=[slug])


def _create_url(slug="acme"):
    return reverse("contact_create", args=[slug])


def _edit_url(contact, slug="acme"):
    return reverse("contact_edit", args=[slug, contact.uuid])


def _field_block(html: str, name: str) -> str:
    """The markup `_form.html` renders for one field (its label, input and errors)."""
    for block in html.split('<div class="field')[1:]:
        if f'name="{name}"' in block:
            return block
    raise AssertionError(f"no field {name} in the page")


def _valid(**overrides) -> dict:
    data = {
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "phone": "+44 20 7946 0000",
        "stripe_customer_id": "cus_Ada123",
        "custom_fields_text": "",
    }
    return {**data, **overrides}


def _snapshot(workspace) -> list[tuple]:
    return list(
        workspace.contacts.order_by("pk").values_list(
            "name", "email", "phone", "stripe_customer_id", "custom_fields"
        )
    )


# --- the list -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    ["grace", "GRACE@NAVY", "0199"],
    ids=["name", "email", "phone"],
)
def test_it_finds_contacts_by_name_email_or_phone(query, workspace, staff, as_user):
    ContactFactory(workspace=workspace, name="Grace Hopper", email="grace@navy.mil", phone="0199")
    ContactFactory(workspace=workspace, name="Alan Turing", email="alan@bletchley.uk", phone="0200")

    response = as_user(staff).get(_list_url(), {"q": query})

    assert response.status_code == 200
    assert "Grace Hopper" in response.text
    assert "Alan Turing" not in response.text


def test_it_says_when_no_contact_matches(workspace, staff, as_user):
    ContactFactory(workspace=workspace, name="Grace Hopper")

    response = as_user(staff).get(_list_url(), {"q": "nobody"})

    assert "No contact matches" in response.text
    assert "Grace Hopper" not in response.text


def test_it_never_lists_contacts_of_another_workspace(workspace, other_workspace, staff, as_user):
    ContactFactory(workspace=other_workspace, name="Wile E. Coyote")

    response = as_user(staff).get(_list_url())

    assert "Wile E. Coyote" not in response.text


def test_it_paginates_and_keeps_the_search_on_the_next_page(workspace, staff, as_user):
    for n in range(27):
        ContactFactory(workspace=workspace, name=f"Lead {n:02d}")
    client = as_user(staff)

    first = client.get(_list_url(), {"q": "Lead"})
    second = client.get(_list_url(), {"q": "Lead", "page": 2})

    assert "Lead 00" in first.text and "Lead 25" not in first.text
    assert 'rel="next"' in first.text and "q=Lead" in first.text
    assert "Lead 25" in second.text and "Lead 26" in second.text
    assert "Lead 00" not in second.text
    assert "Page 2 of 2" in second.text


def test_the_list_page_runs_as_many_queries_for_30_contacts_as_for_5(
    workspace, staff, as_user, django_assert_max_num_queries
):
    client = as_user(staff)
    ContactFactory.create_batch(5, workspace=workspace, stripe_customer_id="cus_Small")
    client.get(_list_url())  # warm up: session, content types

    with CaptureQueriesContext(connection) as few:
        assert client.get(_list_url()).status_code == 200

    ContactFactory.create_batch(25, workspace=workspace, stripe_customer_id="cus_Many")
    with django_assert_max_num_queries(len(few)):
        response = client.get(_list_url())
    assert response.text.count("cus_Many") + response.text.count("cus_Small") == 25


def test_an_htmx_search_gets_only_the_results_partial(workspace, staff, as_user):
    ContactFactory(workspace=workspace, name="Grace Hopper")
    ContactFactory(workspace=workspace, name="Alan Turing")

    response = as_user(staff).get(
        _list_url(),
        {"q": "grace"},
        headers={"HX-Request": "true", "HX-Target": "contact-results"},
    )

    assert response.status_code == 200
    assert "<html" not in response.text
    assert 'id="contact-results"' in response.text
    assert "Grace Hopper" in response.text and "Alan Turing" not in response.text


def test_a_plain_get_gets_the_whole_page(workspace, staff, as_user):
    response = as_user(staff).get(_list_url())

    assert "<html" in response.text
    assert 'id="contact-results"' in response.text


def test_caches_keep_the_partial_and_the_page_apart(workspace, staff, as_user):
    """The search pushes its URL: Back must not show a cached partial as the whole page."""
    response = as_user(staff).get(_list_url(), headers={"HX-Request": "true"})

    varies = {h.strip().lower() for h in response.headers.get("Vary", "").split(",")}
    assert {"hx-request", "hx-target"} <= varies


# --- create ---------------------------------------------------------------------------------


def test_it_creates_a_contact_with_custom_fields_and_shows_it(workspace, staff, as_user):
    client = as_user(staff)
    data = _valid(custom_fields_text="lead_value = 150\n\n  source=google ads  \n")

    response = client.post(_create_url(), data)

    contact = Contact.objects.get(workspace=workspace)
    assert response.status_code == 302
    assert response.url == reverse("contact_detail", args=["acme", contact.uuid])
    assert contact.name == "Ada Lovelace"
    assert contact.email == "ada@example.com"
    assert contact.stripe_customer_id == "cus_Ada123"
    assert contact.custom_fields == {"lead_value": "150", "source": "google ads"}
    detail = client.get(response.url)
    assert "lead_value" in detail.text and "google ads" in detail.text


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "not-an-email", "Enter a valid email address."),
        ("email", "TAKEN@example.com", "Another contact of this workspace has this e-mail."),
        ("stripe_customer_id", "acct_123", "A Stripe customer ID looks like cus_ABC123."),
        ("custom_fields_text", "lead_value: 150", "Line 1 should read name = value"),
        ("custom_fields_text", "ok = 1\nLead Value = 2", "Line 2 should read name = value"),
        ("name", "", "This field is required."),
        ("name", "   ", "This field is required."),
    ],
    ids=[
        "bad-email",
        "duplicate-email",
        "bad-stripe-id",
        "malformed-custom-field",
        "second-line-malformed",
        "empty-name",
        "blank-name",
    ],
)
def test_it_refuses_bad_input_next_to_the_field_and_saves_nothing(
    field, value, message, workspace, staff, as_user
):
    ContactFactory(workspace=workspace, name="Taken", email="taken@example.com")
    before = _snapshot(workspace)

    response = as_user(staff).post(_create_url(), _valid(**{field: value}))

    assert response.status_code == 200
    assert message in _field_block(response.text, field)
    assert _snapshot(workspace) == before


def test_it_allows_an_email_used_in_another_workspace(workspace, other_workspace, staff, as_user):
    ContactFactory(workspace=other_workspace, email="ada@example.com")

    response = as_user(staff).post(_create_url(), _valid(email="Ada@Example.com"))

    assert response.status_code == 302
    assert workspace.contacts.get().email == "Ada@Example.com"


def test_a_viewer_cannot_create_a_contact(workspace, viewer, as_user):
    response = as_user(viewer).post(_create_url(), _valid())

    assert response.status_code == 403
    assert not Contact.objects.exists()


# --- edit -----------------------------------------------------------------------------------


def test_the_edit_form_shows_the_current_custom_fields(workspace, staff, as_user):
    contact = ContactFactory(workspace=workspace, custom_fields={"lead_value": "150"})

    response = as_user(staff).get(_edit_url(contact))

    assert "lead_value = 150" in response.text


def test_editing_one_field_keeps_the_others(workspace, staff, as_user):
    contact = ContactFactory(
        workspace=workspace,
        name="Ada",
        email="ada@example.com",
        phone="0100",
        stripe_customer_id="cus_Keep",
        custom_fields={"lead_value": "150"},
    )
    client = as_user(staff)
    form = client.get(_edit_url(contact)).context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    data["phone"] = "0999"

    response = client.post(_edit_url(contact), data)

    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.phone == "0999"
    assert contact.name == "Ada"
    assert contact.email == "ada@example.com"
    assert contact.stripe_customer_id == "cus_Keep"
    assert contact.custom_fields == {"lead_value": "150"}


def test_a_contact_keeps_its_own_email_in_another_case(workspace, staff, as_user):
    contact = ContactFactory(workspace=workspace, email="ada@example.com")

    response = as_user(staff).post(_edit_url(contact), _valid(email="ADA@example.com"))

    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.email == "ADA@example.com"


def test_editing_to_another_contacts_email_is_refused_and_changes_nothing(
    workspace, staff, as_user
):
    ContactFactory(workspace=workspace, email="taken@example.com")
    contact = ContactFactory(workspace=workspace, name="Ada", email="ada@example.com")
    before = _snapshot(workspace)

    response = as_user(staff).post(
        _edit_url(contact), _valid(name="Renamed", email="Taken@Example.com")
    )

    assert response.status_code == 200
    assert "Another contact of this workspace" in _field_block(response.text, "email")
    assert _snapshot(workspace) == before


def test_an_outsider_cannot_edit_a_contact(workspace, outsider, as_user):
    contact = ContactFactory(workspace=workspace, name="Ada", email="ada@example.com")
    before = _snapshot(workspace)

    response = as_user(outsider).post(_edit_url(contact), _valid(name="Hacked"))
    via_own_workspace = as_user(outsider).post(
        _edit_url(contact, slug="globex"), _valid(name="Hacked")
    )

    assert response.status_code == 404
    assert via_own_workspace.status_code == 404
    assert _snapshot(workspace) == before


def test_a_refused_edit_shows_the_contact_as_it_still_is(workspace, staff, as_user):
    contact = ContactFactory(workspace=workspace, name="Ada")

    response = as_user(staff).post(_edit_url(contact), _valid(name="Renamed", email="bad"))

    assert response.status_code == 200
    assert "<h1>Edit Ada</h1>" in response.text
    assert 'value="Renamed"' in _field_block(response.text, "name")  # what was typed
