"""The public form's submission limit is the form's own setting: so many submissions per
address in so many minutes (default 5 in 10), edited on the form's page (1..1000 per
1..1440 minutes) and applied by the public page."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from automation.models import Form, Submission
from tests.automation.factories import FormFactory

pytestmark = pytest.mark.django_db

GOOD = {"name": "Jane Cooper", "email": "jane@example.com"}


def _submit(client, form, n: int, **extra):
    return client.post(
        reverse("public_form", args=[form.slug]), {**GOOD, "email": f"p{n}@example.com"}, **extra
    )


def _settings(form, **meta) -> dict:
    """The form's page as posted, its fields unchanged."""
    data = {"name": form.name, "slug": form.slug, "is_active": "on", **meta}
    fields = list(form.fields.all())
    data.update({"fields-TOTAL_FORMS": str(len(fields)), "fields-INITIAL_FORMS": "0"})
    for i, field in enumerate(fields):
        data.update({f"fields-{i}-label": field.label, f"fields-{i}-key": field.key,
                     f"fields-{i}-kind": field.kind, f"fields-{i}-maps_to": field.maps_to,
                     f"fields-{i}-required": "on" if field.required else ""})  # fmt: skip
    return data


def test_a_new_form_takes_five_submissions_per_address_in_ten_minutes(staff, as_user):
    page = as_user(staff).get(reverse("form_create", args=["acme"])).text
    assert 'name="submission_limit"' in page and 'value="5"' in page
    assert 'name="submission_window_minutes"' in page and 'value="10"' in page


def test_a_limit_of_two_refuses_the_third_submission_from_one_address(
    client, workspace, staff, as_user
):
    form = FormFactory(workspace=workspace, slug="lead")
    data = _settings(form, submission_limit="2", submission_window_minutes="10")
    response = as_user(staff).post(form.get_absolute_url(), data)
    assert response.status_code == 302
    form.refresh_from_db()
    assert (form.submission_limit, form.submission_window_minutes) == (2, 10)

    assert _submit(client, form, 1).status_code == 302
    assert _submit(client, form, 2).status_code == 302
    refused = _submit(client, form, 3)
    assert refused.status_code == 429
    assert "Too many submissions" in refused.text
    assert "Please wait up to 10 minutes and try again" in refused.text
    assert Submission.objects.count() == 2  # the third was not saved
    # Another address, and another form from the same address, are unaffected.
    assert _submit(client, form, 4, REMOTE_ADDR="10.0.0.9").status_code == 302
    other = FormFactory(workspace=workspace, slug="other")
    for n in range(3):
        assert _submit(client, other, n).status_code == 302
    assert Submission.objects.count() == 6


def test_the_address_may_submit_again_once_the_window_has_passed(client, workspace, settings):
    # time-machine moves Python's clock, not Redis's expiry times: counts kept in this process.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    form = FormFactory(workspace=workspace, slug="lead", submission_limit=1,
                       submission_window_minutes=60)  # fmt: skip
    with time_machine.travel(dt.datetime(2030, 1, 7, 9, 0, tzinfo=dt.UTC), tick=False) as clock:
        assert _submit(client, form, 1).status_code == 302
        refused = _submit(client, form, 2)
        assert refused.status_code == 429 and "wait up to an hour" in refused.text
        clock.shift(dt.timedelta(minutes=59))
        assert _submit(client, form, 3).status_code == 429
        clock.shift(dt.timedelta(minutes=2))
        assert _submit(client, form, 4).status_code == 302
    assert Submission.objects.count() == 2


@pytest.mark.parametrize(
    ("limit", "window", "field", "message"),
    [
        ("0", "10", "submission_limit", "Allow at least 1 submission per address."),
        ("1001", "10", "submission_limit", "Allow at most 1000 submissions per address."),
        ("two", "10", "submission_limit", "Enter a whole number from 1 to 1000."),
        ("5", "0", "submission_window_minutes", "The window is at least 1 minute."),
        ("5", "1441", "submission_window_minutes",
         "The window is at most 1440 minutes (24 hours)."),
        ("5", "2.5", "submission_window_minutes",
         "Enter a whole number of minutes from 1 to 1440."),
    ],
)  # fmt: skip
def test_a_limit_out_of_range_is_refused_next_to_its_field_and_changes_nothing(
    workspace, staff, as_user, limit, window, field, message
):
    form = FormFactory(workspace=workspace, slug="lead", name="Lead form")
    data = _settings(form, name="Renamed", submission_limit=limit,
                     submission_window_minutes=window)  # fmt: skip
    response = as_user(staff).post(form.get_absolute_url(), data)
    assert response.status_code == 200
    assert message in response.text
    # The message sits with its field (the field's own error list).
    around = response.text.split(f'name="{field}"')[0].rsplit('class="field', 1)[1]
    after = response.text.split(f'name="{field}"')[1].split('class="field')[0]
    assert message in around + after
    form.refresh_from_db()
    assert (form.name, form.submission_limit, form.submission_window_minutes) == (
        "Lead form", 5, 10)  # fmt: skip


def test_the_edges_of_the_range_are_accepted(workspace, staff, as_user):
    form = FormFactory(workspace=workspace, slug="lead")
    client = as_user(staff)
    for limit, window in (("1", "1"), ("1000", "1440")):
        data = _settings(form, submission_limit=limit, submission_window_minutes=window)
        assert client.post(form.get_absolute_url(), data).status_code == 302
        form.refresh_from_db()
        assert (form.submission_limit, form.submission_window_minutes) == (int(limit), int(window))
    page = client.get(form.get_absolute_url()).text
    assert 'value="1000"' in page and 'value="1440"' in page


def test_the_database_refuses_a_limit_out_of_range(workspace):
    from django.db import IntegrityError, transaction

    form = FormFactory(workspace=workspace, slug="lead")
    with pytest.raises(IntegrityError), transaction.atomic():
        Form.objects.filter(pk=form.pk).update(submission_limit=0)
