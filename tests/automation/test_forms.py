"""Staff pages for forms (list, build, submissions), form_save, and the FormSubmitted trigger."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from automation.models import Form, Submission
from automation.services.forms import form_save
from automation.triggers.forms import FormSubmitted
from tests.automation.factories import FormFactory, SubmissionFactory
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def _rows(*rows):
    """POST data for the fields formset."""
    data = {"fields-TOTAL_FORMS": str(len(rows)), "fields-INITIAL_FORMS": "0"}
    for i, row in enumerate(rows):
        data.update({f"fields-{i}-{k}": v for k, v in row.items()})
    return data


NAME = {"label": "Your name", "key": "name", "kind": "name", "maps_to": "name", "required": "on"}
EMAIL = {"label": "E-mail", "key": "email", "kind": "email", "maps_to": "email", "required": "on"}
VALUE = {"label": "Budget", "key": "lead_value", "kind": "number", "maps_to": "custom"}


def _post(**meta):
    return {"name": "Contact us", "slug": "contact-us", "is_active": "on", **meta}


def test_the_list_shows_forms_with_their_public_page(workspace, staff, as_user):
    FormFactory(workspace=workspace, name="Contact us", slug="contact-us")
    FormFactory(name="Globex form")  # another workspace
    response = as_user(staff).get(reverse("form_list", args=["acme"]))
    assert response.status_code == 200
    assert "Contact us" in response.text and "/f/contact-us/" in response.text
    assert "Globex form" not in response.text
    assert 'href="/w/acme/forms/"' in response.text  # the nav link


def test_the_list_answers_htmx_with_the_partial_and_shows_an_empty_state(staff, as_user):
    response = as_user(staff).get(
        reverse("form_list", args=["acme"]), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="form-results"
    )
    assert response.status_code == 200 and "<html" not in response.text
    assert "No forms yet" in response.text


def test_the_new_form_page_offers_name_email_and_phone_rows(staff, as_user):
    response = as_user(staff).get(reverse("form_create", args=["acme"]))
    assert response.status_code == 200
    assert 'name="fields-1-key" value="email"' in response.text


def test_creating_a_form_saves_its_fields_in_order(workspace, staff, as_user):
    data = {**_post(), **_rows(NAME, EMAIL, VALUE)}
    response = as_user(staff).post(reverse("form_create", args=["acme"]), data)
    form = Form.objects.get()
    assert response.status_code == 302 and response["Location"] == form.get_absolute_url()
    assert form.workspace == workspace and form.slug == "contact-us"
    assert [(f.key, f.kind, f.maps_to, f.required) for f in form.fields.all()] == [
        ("name", "name", "name", True),
        ("email", "email", "email", True),
        ("lead_value", "number", "custom", False),
    ]


def test_blank_and_deleted_rows_are_left_out_and_missing_fields_removed(workspace, staff, as_user):
    form = FormFactory(workspace=workspace, slug="contact-us")
    blank = {"label": "", "key": "", "kind": "text", "maps_to": "custom"}
    data = {**_post(), **_rows(EMAIL, {**VALUE, "DELETE": "on"}, blank)}
    response = as_user(staff).post(reverse("form_edit", args=["acme", form.uuid]), data)
    assert response.status_code == 302
    assert [f.key for f in form.fields.all()] == ["email"]


@pytest.mark.parametrize(
    "rows, message",
    [
        ((NAME, VALUE), "needs a required e-mail field"),
        ((NAME, {**EMAIL, "required": ""}), "needs a required e-mail field"),
        ((EMAIL, {**NAME, "key": "email"}), "same key"),
        ((EMAIL, NAME, {**NAME, "key": "name2"}), "Only one field can fill"),
    ],
)
def test_a_form_without_a_usable_email_field_is_refused(staff, as_user, rows, message):
    response = as_user(staff).post(
        reverse("form_create", args=["acme"]), {**_post(), **_rows(*rows)}
    )
    assert response.status_code == 200 and message in response.text
    assert not Form.objects.exists()


def test_row_errors_show_next_to_the_row(staff, as_user):
    dropdown = {"label": "Plan", "key": "plan", "kind": "dropdown", "maps_to": "custom"}
    wrong_email = {**EMAIL, "kind": "text"}
    data = {**_post(), **_rows(wrong_email, dropdown)}
    response = as_user(staff).post(reverse("form_create", args=["acme"]), data)
    assert response.status_code == 200
    assert "Only an e-mail field can fill" in response.text
    assert "A dropdown needs at least one option." in response.text
    assert not Form.objects.exists()


def test_a_slug_used_by_any_workspace_is_refused(staff, as_user):
    FormFactory(slug="contact-us")  # Globex's
    response = as_user(staff).post(
        reverse("form_create", args=["acme"]), {**_post(), **_rows(NAME, EMAIL)}
    )
    assert response.status_code == 200
    assert "Another form uses this address" in response.text
    assert Form.objects.count() == 1


def test_form_save_refuses_a_taken_slug_and_saves_nothing(workspace):
    FormFactory(slug="taken")
    fields = [{"label": "E-mail", "key": "email", "kind": "email", "maps_to": "email",
               "required": True, "choices": []}]  # fmt: skip
    with pytest.raises(ValidationError) as caught:
        form_save(workspace=workspace, name="x", slug="taken", fields=fields)
    assert "slug" in caught.value.message_dict
    assert Form.objects.filter(workspace=workspace).count() == 0


def test_editing_shows_the_stored_fields(workspace, staff, as_user):
    form = FormFactory(workspace=workspace)
    response = as_user(staff).get(reverse("form_edit", args=["acme", form.uuid]))
    assert response.status_code == 200 and 'value="lead_value"' in response.text


def test_submissions_list_shows_values_per_field(workspace, staff, as_user):
    form = FormFactory(workspace=workspace)
    contact = ContactFactory(workspace=workspace, name="Jane Cooper")
    data = {"name": "Jane", "email": "j@example.com", "lead_value": "150"}
    SubmissionFactory(form=form, contact=contact, data=data)
    url = reverse("form_submission_list", args=["acme", form.uuid])
    response = as_user(staff).get(url)
    assert response.status_code == 200
    assert (
        "Jane Cooper" in response.text and "150" in response.text and "Lead value" in response.text
    )
    partial = as_user(staff).get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="submission-results")
    assert "<html" not in partial.text and "150" in partial.text


def test_submissions_list_keeps_a_constant_number_of_queries(
    workspace, staff, as_user, django_assert_max_num_queries
):
    form = FormFactory(workspace=workspace)
    for _ in range(3):
        SubmissionFactory(form=form, contact=ContactFactory(workspace=workspace))
    url = reverse("form_submission_list", args=["acme", form.uuid])
    client = as_user(staff)
    client.get(url)
    with django_assert_max_num_queries(12) as few:
        client.get(url)
    for _ in range(10):
        SubmissionFactory(form=form, contact=ContactFactory(workspace=workspace))
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url)


def test_another_workspaces_form_is_404_and_viewers_get_403(
    staff, viewer, outsider, as_user, workspace
):
    form = FormFactory(workspace=workspace)
    assert as_user(outsider).get(reverse("form_edit", args=["acme", form.uuid])).status_code == 404
    assert as_user(viewer).get(reverse("form_list", args=["acme"])).status_code == 403
    globex = FormFactory(name="Globex form")
    url = reverse("form_edit", args=["acme", globex.uuid])
    assert as_user(staff).get(url).status_code == 404
    assert as_user(staff).post(url, {**_post(), **_rows(EMAIL)}).status_code == 404
    assert Submission.objects.count() == 0


# The trigger class


def test_the_trigger_matches_any_form_or_the_chosen_ones():
    payload = {"type": "form_submitted", "form": {"id": "a"}}
    assert FormSubmitted.matches({}, payload)
    assert FormSubmitted.matches({"forms": []}, payload)
    assert FormSubmitted.matches({"forms": ["b", "a"]}, payload)
    assert not FormSubmitted.matches({"forms": ["b"]}, payload)


def test_the_trigger_config_form_lists_the_workspaces_forms(workspace):
    mine = FormFactory(workspace=workspace, name="Lead form")
    FormFactory(name="Globex form")
    config_form = FormSubmitted.config_form({"forms": [str(mine.uuid)]}, workspace=workspace)
    assert [label for _, label in config_form.fields["forms"].choices] == ["Lead form"]
    assert config_form.is_valid()
    assert config_form.to_config() == {"forms": [str(mine.uuid)]}
    refused = FormSubmitted.config_form({"forms": ["x"]}, workspace=workspace)
    assert not refused.is_valid()


def test_the_trigger_describes_its_filter(workspace):
    lead = FormFactory(workspace=workspace, name="Lead form")
    contact = FormFactory(workspace=workspace, name="Contact us")
    config = {"forms": [str(lead.uuid), str(contact.uuid)]}
    assert FormSubmitted.describe(config, workspace) == "Form submitted: Lead form, Contact us"
    assert FormSubmitted.describe({}, workspace) == "Form submitted: any form"
    gone = {"forms": [str(lead.uuid), "not-a-uuid"]}
    assert FormSubmitted.describe(gone, workspace) == "Form submitted: Lead form, (deleted form)"


def test_the_sample_uses_the_workspaces_first_form(workspace):
    generic = FormSubmitted.sample(workspace)
    assert generic["type"] == "form_submitted" and "lead_value" in generic["fields"]
    form = FormFactory(workspace=workspace, name="Lead form")
    sample = FormSubmitted.sample(workspace)
    assert sample["form"] == {"id": str(form.uuid), "name": "Lead form", "slug": form.slug}
    assert set(sample["fields"]) == {"name", "email", "lead_value"}
    assert sample["fields"]["email"] == "jane@example.com"
    # The paths that every form has resolve in the sample (`fields.*` depend on the form).
    for output in [o for o in FormSubmitted.outputs if not o.startswith("fields.")]:
        value = sample
        for part in output.split("."):
            value = value[part]
