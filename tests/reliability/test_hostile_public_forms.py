"""The public form (/f/<slug>/) and booking page (/book/<slug>/) under hostile input: any
text, huge and negative numbers, unicode, NUL bytes, unknown fields, oversized bodies.
Never a 5xx; a refused submission saves nothing and shows a message next to the field; an
accepted one saves values that fit their columns."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from urllib.parse import urlencode

import pytest
import time_machine
from django.urls import reverse
from hypothesis import event, example, given
from hypothesis import strategies as st

from automation.models import Appointment, Run, Submission
from portal.models import Contact
from tests.automation.factories import CalendarFactory, FormFactory, FormFieldFactory
from tests.reliability.conftest import example_savepoint
from tests.reliability.hostile import (
    HOSTILE,
    assert_errors_next_to_fields,
    emails,
    fresh_address,
    one_field_changed,
    values,
)

pytestmark = pytest.mark.django_db
CHOICES = ["Basic", "Pro"]
SLOT = dt.datetime(2030, 1, 7, 9, 30, tzinfo=zoneinfo.ZoneInfo("America/New_York"))
FIELDS = [  # (key, kind, maps_to, required): every kind, and text filling the contact's name
    ("name", "text", "name", False), ("email", "email", "email", True),
    ("phone", "phone", "phone", False), ("lead_value", "number", "custom", False),
    ("plan", "dropdown", "custom", False), ("agree", "checkbox", "custom", False),
    ("notes", "text", "custom", False),
]  # fmt: skip


@pytest.fixture
def form(workspace):
    form = FormFactory(workspace=workspace, slug="hostile", with_fields=False)
    for position, (key, kind, maps_to, required) in enumerate(FIELDS):
        FormFieldFactory(form=form, key=key, label=key, kind=kind, maps_to=maps_to,
                         required=required, position=position, choices=CHOICES)  # fmt: skip
    return form


def _counts() -> tuple:
    return Submission.objects.count(), Contact.objects.count(), Run.objects.count()


def _post(client, url: str, data: dict, urlencoded: bool):
    if urlencoded:  # as a browser sends a form; else multipart, as with a file input
        body = urlencode(data)
        return client.post(url, body, "application/x-www-form-urlencoded",
                           REMOTE_ADDR=fresh_address())  # fmt: skip
    return client.post(url, data, REMOTE_ADDR=fresh_address())


GOOD_SUBMISSION = {"name": "Jane Cooper", "email": "jane@example.com", "phone": "+1 555 0100",
                   "lead_value": "150", "plan": "Pro", "agree": "on", "notes": "Hi"}  # fmt: skip
submissions = one_field_changed(GOOD_SUBMISSION) | st.fixed_dictionaries(
    {"email": emails},
    optional={
        "name": st.one_of(values, st.just("Jane Cooper")),
        "phone": values,
        "lead_value": st.one_of(values, st.just("150")),
        "plan": st.one_of(values, st.sampled_from(CHOICES)),
        "agree": st.one_of(values, st.just("on")),
        "notes": values,
        "website": st.sampled_from(["", "http://spam.example"]),
        "unknown_field": values,
    },
)


@HOSTILE
@given(data=submissions, urlencoded=st.booleans())
@example(data={"email": f"{'a' * 64}@{'b' * 63}.{'c' * 63}.{'d' * 58}.com"}, urlencoded=True)
@example(data={"email": "jane@example.com", "name": "x" * 2000}, urlencoded=True)
@example(data={"email": "jane@example.com", "phone": "9" * 41}, urlencoded=False)
@example(data={"email": "jane@example.com", "lead_value": "1e999999"}, urlencoded=True)
def test_a_form_submission_is_saved_whole_or_refused_next_to_the_field(client, form, data,
                                                                       urlencoded):  # fmt: skip
    url = reverse("public_form", args=[form.slug])
    with example_savepoint():
        before = _counts()
        response = _post(client, url, data, urlencoded)
        event(f"answered {response.status_code}")
        assert response.status_code in (200, 302)
        if response.status_code == 200:
            assert _counts() == before, "a refused submission saves nothing"
            assert_errors_next_to_fields(response.text, response.context["form"].errors)
        elif data.get("website"):
            assert _counts() == before, "the honeypot looks accepted and saves nothing"
        else:
            assert _counts()[0] == before[0] + 1
            Contact.objects.latest("updated_at").full_clean(validate_constraints=False)


@pytest.fixture
def calendar(workspace):
    return CalendarFactory(workspace=workspace, slug="hostile-consult")


slots = st.one_of(
    values,
    st.datetimes(timezones=st.timezones()).map(dt.datetime.isoformat),
    st.sampled_from([SLOT.isoformat(), "9999-12-31T23:59:59-23:59", "0001-01-01T00:00+05:00"]),
)
GOOD_BOOKING = {"slot": SLOT.isoformat(), "email": "jane@example.com", "name": "Jane Cooper",
                "phone": "+1 555 0100"}  # fmt: skip
bookings = one_field_changed(GOOD_BOOKING, st.one_of(slots, emails)) | st.fixed_dictionaries(
    {
        "slot": st.one_of(st.just(SLOT.isoformat()), slots),
        "email": emails,
        "name": st.one_of(st.just("Jane Cooper"), values),
    },
    optional={"phone": values},
)


@HOSTILE
@given(data=bookings, urlencoded=st.booleans())
@example(data={"slot": "9999-12-31T23:59:59-23:59", "email": "j@example.com", "name": "J"},
         urlencoded=True)  # fmt: skip
@example(data={"slot": SLOT.isoformat(), "email": "j@example.com", "name": "J"}, urlencoded=False)
def test_a_booking_is_made_whole_or_refused_next_to_the_field(client, calendar, data,
                                                              urlencoded):  # fmt: skip
    url = reverse("public_booking", args=[calendar.slug])
    with time_machine.travel(SLOT - dt.timedelta(hours=2), tick=False), example_savepoint():
        before = Appointment.objects.count(), Contact.objects.count(), Run.objects.count()
        response = _post(client, url, data, urlencoded)
        event(f"answered {response.status_code}")
        assert response.status_code in (200, 302)
        if response.status_code == 200:
            assert (Appointment.objects.count(), Contact.objects.count(), Run.objects.count()) == (
                before
            )
            assert_errors_next_to_fields(response.text, response.context["form"].errors)
        else:
            appointment = Appointment.objects.get()
            assert appointment.starts_at == SLOT
            appointment.full_clean(validate_constraints=False)
            appointment.contact.full_clean(validate_constraints=False)


@pytest.mark.parametrize("page", ["form", "booking"])
@pytest.mark.parametrize("body", ["too big", "too many fields", "too big multipart"])
def test_an_oversized_body_is_answered_400_with_a_page_and_saves_nothing(
    client, form, calendar, settings, page, body
):
    url = (
        reverse("public_form", args=[form.slug])
        if page == "form"
        else (reverse("public_booking", args=[calendar.slug]))
    )
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    data = {**GOOD_SUBMISSION, **GOOD_BOOKING}
    if body == "too many fields":
        data.update({f"f{n}": "x" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS)})
    else:
        data["notes"] = "x" * (limit + 1)
    if body == "too big multipart":
        response = client.post(url, data, REMOTE_ADDR=fresh_address())
    else:
        response = _post(client, url, data, urlencoded=True)
    assert response.status_code == 400
    assert "The request could not be read" in response.text
    assert (Submission.objects.count(), Appointment.objects.count()) == (0, 0)
