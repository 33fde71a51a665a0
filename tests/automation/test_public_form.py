"""The public form page /f/<slug>/: submissions upsert contacts and start runs; spam guards."""

from __future__ import annotations

import pytest
from django.urls import reverse

from automation.models import Run, Submission
from portal.models import Contact
from tests.automation.factories import FormFactory, FormFieldFactory, published_workflow
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def form(workspace):
    return FormFactory(workspace=workspace, name="Lead form", slug="lead")


def _url(form):
    return reverse("public_form", args=[form.slug])


GOOD = {"name": "Jane Cooper", "email": "Jane@Example.com", "lead_value": "150"}


def test_the_page_renders_the_fields_and_a_hidden_honeypot_without_login(client, form):
    response = client.get(_url(form))
    assert response.status_code == 200
    assert 'name="email"' in response.text and 'name="lead_value"' in response.text
    assert 'class="honeypot"' in response.text and 'name="website"' in response.text
    assert "sidebar" not in response.text  # no staff navigation


def test_an_inactive_or_unknown_form_answers_404(client, form):
    form.is_active = False
    form.save()
    assert client.get(_url(form)).status_code == 404
    assert client.post(_url(form), GOOD).status_code == 404
    assert client.get(reverse("public_form", args=["nope"])).status_code == 404


def test_a_submission_creates_the_contact_with_its_custom_field(client, form, workspace):
    response = client.post(_url(form), GOOD)
    assert response.status_code == 302 and response["Location"].endswith("?sent=1")
    contact = Contact.objects.get(workspace=workspace)
    assert (contact.name, contact.email) == ("Jane Cooper", "Jane@Example.com")
    assert contact.custom_fields == {"lead_value": "150"}
    submission = Submission.objects.get()
    assert submission.contact == contact and submission.workspace == workspace
    assert submission.data == {"name": "Jane Cooper", "email": "Jane@Example.com",
                               "lead_value": "150"}  # fmt: skip
    assert "Thank you" in client.get(response["Location"]).text


def test_a_submission_never_changes_the_contact_matched_by_email(client, form, workspace):
    """Anyone can type a customer's e-mail: the contact keeps what staff know, and what the
    visitor claimed stays on the submission (and reaches workflows as trigger.fields)."""
    contact = ContactFactory(workspace=workspace, name="J. Cooper", email="jane@example.com",
                             phone="+1 555 0199", custom_fields={"source": "ads"},
                             stripe_customer_id="cus_known")  # fmt: skip
    ContactFactory(email="jane@example.com")  # another workspace's contact is not touched
    client.post(_url(form), {**GOOD, "name": "Mallory", "lead_value": "999999.99"})
    contact.refresh_from_db()
    assert Contact.objects.filter(workspace=workspace).count() == 1
    assert (contact.name, contact.phone) == ("J. Cooper", "+1 555 0199")
    assert contact.custom_fields == {"source": "ads"}
    assert contact.stripe_customer_id == "cus_known"
    submission = Submission.objects.get()
    assert submission.contact == contact
    assert submission.data["name"] == "Mallory" and submission.data["lead_value"] == "999999.99"


def test_the_contact_page_shows_what_later_submissions_claimed(client, owner, form, workspace):
    contact = ContactFactory(workspace=workspace, name="J. Cooper", email="jane@example.com")
    client.post(_url(form), {**GOOD, "name": "Mallory"})
    client.force_login(owner)
    page = client.get(reverse("contact_detail", args=[workspace.slug, contact.uuid])).text
    assert "J. Cooper" in page and "Mallory" in page and "Lead form" in page


def test_the_same_page_sent_twice_is_one_submission_and_one_run(client, form, workspace):
    published_workflow(workspace, "form_submitted")
    page = client.get(_url(form)).text
    token = page.split('name="submission_token" value="')[1].split('"')[0]
    for _ in range(2):
        response = client.post(_url(form), {**GOOD, "submission_token": token})
        assert response.status_code == 302 and response["Location"].endswith("?sent=1")
    assert Submission.objects.count() == 1 and Run.objects.count() == 1
    # A new page (a new token) is a new lead.
    client.post(_url(form), {**GOOD, "submission_token": "6f1c1f4e-2b7c-4d1e-9a57-0b5c1d2e3f40"})
    assert Submission.objects.count() == 2 and Run.objects.count() == 2


def test_the_same_values_resent_without_a_page_token_are_one_submission(client, form, workspace):
    published_workflow(workspace, "form_submitted")
    client.post(_url(form), GOOD)
    client.post(_url(form), GOOD)
    assert Submission.objects.count() == 1 and Run.objects.count() == 1
    client.post(_url(form), {**GOOD, "lead_value": "151"})
    assert Submission.objects.count() == 2


def test_bad_input_gets_messages_next_to_the_fields_and_saves_nothing(client, form):
    response = client.post(_url(form), {"name": "", "email": "not-an-email", "lead_value": "1O"})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"name", "email", "lead_value"}
    assert "Enter a number" in errors["lead_value"][0]
    assert "has-error" in response.text and "Enter a valid email address." in response.text
    assert not Submission.objects.exists() and not Contact.objects.exists()


def test_dropdown_and_checkbox_values_are_checked_and_stored(client, workspace):
    form = FormFactory(workspace=workspace, slug="quote")
    FormFieldFactory(form=form, key="plan", kind="dropdown", choices=["Basic", "Pro"],
                     required=True, position=3)  # fmt: skip
    FormFieldFactory(form=form, key="consent", kind="checkbox", position=4)
    bad = client.post(_url(form), {**GOOD, "plan": "Gold"})
    assert "plan" in bad.context["form"].errors and not Submission.objects.exists()
    client.post(_url(form), {**GOOD, "plan": "Pro", "consent": "on"})
    assert Submission.objects.get().data["plan"] == "Pro"
    assert Submission.objects.get().data["consent"] is True
    assert Contact.objects.get().custom_fields == {"lead_value": "150", "plan": "Pro",
                                                   "consent": True}  # fmt: skip


def test_a_filled_honeypot_looks_accepted_but_saves_nothing(client, form):
    response = client.post(_url(form), {**GOOD, "website": "http://spam.example"})
    assert response.status_code == 302
    assert not Submission.objects.exists() and not Contact.objects.exists()


# Rate-limit counters are per form uuid, so every test starts from zero without clearing the
# cache (on Redis that would flush keys that are not ours).


def test_the_sixth_submission_in_ten_minutes_from_one_address_gets_429(client, form, workspace):
    for n in range(5):
        assert client.post(_url(form), {**GOOD, "email": f"p{n}@example.com"}).status_code == 302
    response = client.post(_url(form), {**GOOD, "email": "p6@example.com"})
    assert response.status_code == 429
    assert "Too many submissions" in response.text
    assert Submission.objects.count() == 5
    other = FormFactory(workspace=workspace, slug="other")  # the limit is per form...
    assert client.post(_url(other), GOOD).status_code == 302
    # ...and per address
    assert client.post(_url(form), GOOD, REMOTE_ADDR="10.0.0.9").status_code == 302


def test_refused_input_does_not_count_towards_the_limit(client, form):
    for _ in range(6):
        client.post(_url(form), {"email": "bad"})
    assert client.post(_url(form), GOOD).status_code == 302


def test_a_submission_starts_a_run_of_a_workflow_filtering_on_this_form(client, form, workspace):
    workflow = published_workflow(workspace, "form_submitted", {"forms": [str(form.uuid)]})
    other = FormFactory(workspace=workspace, slug="other")
    only_other = published_workflow(workspace, "form_submitted", {"forms": [str(other.uuid)]})
    any_form = published_workflow(workspace, "form_submitted", {"forms": []})

    client.post(_url(form), GOOD)

    submission = Submission.objects.get()
    run = Run.objects.get(workflow=workflow)
    assert run.cause == f"form_submission:{submission.uuid}"
    assert run.contact == submission.contact and run.trigger_type == "form_submitted"
    assert run.trigger == {
        "type": "form_submitted",
        "form": {"id": str(form.uuid), "name": "Lead form", "slug": "lead"},
        "submission": {"id": str(submission.uuid),
                       "submitted_at": submission.submitted_at.isoformat()},
        "fields": {"name": "Jane Cooper", "email": "Jane@Example.com", "lead_value": "150"},
    }  # fmt: skip
    assert Run.objects.filter(workflow=any_form).count() == 1
    assert not Run.objects.filter(workflow=only_other).exists()


def test_runs_are_enqueued_when_the_submission_commits(
    client, form, workspace, django_capture_on_commit_callbacks, monkeypatch
):
    enqueued = []
    monkeypatch.setattr("automation.services.runs.async_task", lambda *a, **k: enqueued.append(a))
    published_workflow(workspace, "form_submitted")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(_url(form), GOOD)
    assert Run.objects.count() == 1 and enqueued == []
    for callback in callbacks:
        callback()
    assert enqueued == [("automation.tasks.execute_run", Run.objects.get().pk)]
