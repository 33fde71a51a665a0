"""The public booking page /book/<slug>/: free slots in the calendar's zone, one booking per
slot (also under concurrent clicks), contact upsert and the appointment_booked trigger."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import time_machine
from django.urls import reverse

from automation.models import Appointment, Run
from automation.selectors import calendar_days
from portal.models import Contact
from tests.automation.factories import AppointmentFactory, CalendarFactory, published_workflow
from tests.factories import ContactFactory

NY = zoneinfo.ZoneInfo("America/New_York")
MONDAY_8AM = dt.datetime(2030, 1, 7, 8, 0, tzinfo=NY)
SLOT = dt.datetime(2030, 1, 7, 9, 30, tzinfo=NY)


@pytest.fixture
def calendar(workspace):
    return CalendarFactory(workspace=workspace, name="Consultations", slug="consult")


def _url(calendar):
    return reverse("public_booking", args=[calendar.slug])


def _booking(slot=SLOT, **overrides):
    return {"slot": slot.isoformat(), "name": "Jane Cooper", "email": "jane@example.com",
            "phone": "+1 555 0100", **overrides}  # fmt: skip


pytestmark = pytest.mark.django_db


@time_machine.travel(MONDAY_8AM, tick=False)
def test_the_page_lists_free_slots_in_the_calendars_zone_and_says_so(client, calendar, settings):
    AppointmentFactory(calendar=calendar, starts_at=SLOT)
    client.cookies["tz"] = "Asia/Tokyo"  # the visitor's own zone does not matter here
    response = client.get(_url(calendar))
    assert response.status_code == 200
    assert "Times are in America/New_York" in response.text and "$49.99" in response.text
    assert "Monday, January 7" in response.text
    assert 'value="2030-01-07T09:00:00-05:00"' in response.text
    assert 'value="2030-01-07T09:30:00-05:00"' not in response.text  # taken
    assert ">09:00<" in response.text
    assert "sidebar" not in response.text


def test_an_inactive_or_unknown_calendar_answers_404(client, calendar):
    calendar.is_active = False
    calendar.save()
    assert client.get(_url(calendar)).status_code == 404
    assert client.post(_url(calendar), _booking()).status_code == 404
    assert client.get(reverse("public_booking", args=["nope"])).status_code == 404


@time_machine.travel(MONDAY_8AM, tick=False)
def test_booking_a_slot_saves_the_appointment_and_the_contact(client, calendar, workspace):
    response = client.post(_url(calendar), _booking())
    appointment = Appointment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{_url(calendar)}?booked={appointment.uuid}"
    assert appointment.starts_at == SLOT and appointment.ends_at == SLOT + dt.timedelta(minutes=30)
    assert (appointment.status, appointment.payment_status) == ("booked", "unpaid")
    assert (appointment.price_amount, appointment.price_currency) == (4999, "usd")
    contact = Contact.objects.get(workspace=workspace)
    assert appointment.contact == contact and contact.name == "Jane Cooper"
    done = client.get(response["Location"])
    assert "You are booked for Monday, January 7, 2030 at 09:30 EST (America/New_York)" in done.text


@time_machine.travel(MONDAY_8AM, tick=False)
def test_booking_reuses_the_contact_with_that_email(client, calendar, workspace):
    contact = ContactFactory(workspace=workspace, email="JANE@example.com", name="Jane C.")
    client.post(_url(calendar), _booking())
    assert Contact.objects.filter(workspace=workspace).count() == 1
    assert Appointment.objects.get().contact == contact


@time_machine.travel(MONDAY_8AM, tick=False)
def test_a_taken_slot_answers_just_taken_and_saves_nothing(client, calendar):
    AppointmentFactory(calendar=calendar, starts_at=SLOT, email="first@example.com")
    response = client.post(_url(calendar), _booking())
    assert response.status_code == 200
    assert "That time was just taken; pick another." in response.text
    assert Appointment.objects.count() == 1 and not Contact.objects.exists()


@time_machine.travel(MONDAY_8AM, tick=False)
def test_a_cancelled_appointment_frees_its_slot(client, calendar):
    AppointmentFactory(calendar=calendar, starts_at=SLOT, status="cancelled")
    assert client.post(_url(calendar), _booking()).status_code == 302
    assert Appointment.objects.filter(status="booked", starts_at=SLOT).count() == 1


@time_machine.travel(MONDAY_8AM, tick=False)
@pytest.mark.parametrize(
    "slot",
    [
        "2030-01-07T07:00:00-05:00",  # in the past
        "2030-01-07T09:10:00-05:00",  # off the grid
        "2030-01-12T09:00:00-05:00",  # a Saturday
        "2030-01-28T09:00:00-05:00",  # beyond 14 days
        "2030-01-07T09:30:00",  # no zone
        "tomorrow",
        "",
    ],
)
def test_a_time_the_calendar_does_not_offer_is_refused(client, calendar, slot):
    response = client.post(_url(calendar), {**_booking(), "slot": slot})
    assert response.status_code == 200
    assert "form-errors" in response.text
    assert response.context["form"].errors["slot"]
    assert not Appointment.objects.exists() and not Contact.objects.exists()


@time_machine.travel(MONDAY_8AM, tick=False)
def test_bad_details_get_messages_next_to_the_fields(client, calendar):
    response = client.post(_url(calendar), _booking(name="", email="nope"))
    assert set(response.context["form"].errors) == {"name", "email"}
    assert "has-error" in response.text
    assert f'value="{SLOT.isoformat()}" checked' in response.text  # the choice is kept
    assert not Appointment.objects.exists()


@time_machine.travel(MONDAY_8AM, tick=False)
def test_booking_starts_a_run_with_the_appointment_payload(client, calendar, workspace):
    workflow = published_workflow(
        workspace, "appointment_booked", {"calendars": [str(calendar.uuid)], "statuses": []}
    )
    other = published_workflow(workspace, "appointment_booked", {"calendars": ["other"]})
    client.post(_url(calendar), _booking())
    appointment = Appointment.objects.get()
    run = Run.objects.get(workflow=workflow)
    assert run.cause == f"appointment_booked:{appointment.uuid}"
    assert run.contact == appointment.contact
    assert run.trigger == {
        "type": "appointment_booked",
        "appointment": {
            "id": str(appointment.uuid),
            "starts_at": "2030-01-07T14:30:00+00:00",
            "ends_at": "2030-01-07T15:00:00+00:00",
            "status": "booked",
            "previous_status": None,
            "payment_status": "unpaid",
            "price": {"amount": 4999, "currency": "usd"},
        },
        "calendar": {"id": str(calendar.uuid), "name": "Consultations", "slug": "consult"},
        "fields": {
            "name": appointment.name,
            "email": appointment.email,
            "phone": appointment.phone,
        },  # fmt: skip
    }
    assert not Run.objects.filter(workflow=other).exists()


@pytest.mark.django_db(transaction=True)
def test_two_people_clicking_the_same_slot_at_once_get_one_appointment(live_server, workspace):
    calendar = CalendarFactory(workspace=workspace, slug="race")
    slot = next(s for day in calendar_days(calendar) for s in day.slots)
    url = live_server.url + _url(calendar)

    def book(n):
        session = requests.Session()
        page = session.get(url, timeout=30)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        data = {**_booking(slot, email=f"p{n}@example.com"), "csrfmiddlewaretoken": token}
        return session.post(url, data=data, headers={"Referer": url}, timeout=30,
                            allow_redirects=False)  # fmt: skip

    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(book, range(6)))
    assert sorted(r.status_code for r in responses) == [200] * 5 + [302]
    assert Appointment.objects.filter(calendar=calendar, starts_at=slot).count() == 1
    refused = [r for r in responses if r.status_code == 200]
    assert all("That time was just taken; pick another." in r.text for r in refused)
    # Nothing half-saved: only the person who got the slot became a contact.
    assert Contact.objects.filter(workspace=workspace).count() == 1


@time_machine.travel(MONDAY_8AM, tick=False)
def test_the_sixth_booking_in_ten_minutes_from_one_address_gets_429(client, calendar):
    slots = [SLOT - dt.timedelta(minutes=30) + dt.timedelta(minutes=30 * n) for n in range(6)]
    for n, slot in enumerate(slots[:5]):
        response = client.post(_url(calendar), _booking(slot, email=f"p{n}@example.com"))
        assert response.status_code == 302, response.text
    response = client.post(_url(calendar), _booking(slots[5], email="p6@example.com"))
    assert response.status_code == 429 and "Too many submissions" in response.text
    assert Appointment.objects.count() == 5
    # ...per address: another customer books the same slot freely
    other = client.post(_url(calendar), _booking(slots[5]), REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 302 and Appointment.objects.count() == 6


@time_machine.travel(MONDAY_8AM, tick=False)
def test_the_same_booking_sent_twice_shows_the_booking_and_starts_one_run(
    client, calendar, workspace
):
    published_workflow(workspace, "appointment_booked", {"calendars": [], "statuses": []})
    first = client.post(_url(calendar), _booking())
    again = client.post(_url(calendar), _booking(email="JANE@example.com"))
    assert again.status_code == 302 and again["Location"] == first["Location"]
    assert Appointment.objects.count() == 1 and Run.objects.count() == 1
    # Someone else asking for the taken slot is told so.
    other = client.post(_url(calendar), _booking(email="mallory@example.com"))
    assert other.status_code == 200 and other.context["form"].errors["slot"]
