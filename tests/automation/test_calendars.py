"""Staff pages for calendars and appointments, calendar_save, free slots, status changes and
the appointment triggers."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from automation.models import Appointment, Calendar, Run
from automation.selectors import calendar_days, slot_is_offered
from automation.services.calendars import appointment_status_set, calendar_save
from automation.triggers.appointments import Booked, StatusChanged
from tests.automation.factories import (
    AppointmentFactory,
    AvailabilityFactory,
    CalendarFactory,
    published_workflow,
)

pytestmark = pytest.mark.django_db

NY = zoneinfo.ZoneInfo("America/New_York")
MONDAY_8AM = dt.datetime(2030, 1, 7, 8, 0, tzinfo=NY)


def _windows(*rows):
    data = {"availability-TOTAL_FORMS": str(len(rows)), "availability-INITIAL_FORMS": "0"}
    for i, (day, start, end) in enumerate(rows):
        data.update({f"availability-{i}-weekday": day, f"availability-{i}-start_time": start,
                     f"availability-{i}-end_time": end})  # fmt: skip
    return data


def _post(**overrides):
    data = {
        "name": "Consultations",
        "slug": "consult",
        "slot_minutes": "30",
        "time_zone": "Europe/Berlin",
        "price": "49.99",
        "currency": "usd",
        "is_active": "on",
    }
    return {**data, **overrides}


# Staff pages


def test_the_list_shows_calendars_with_price_and_booking_page(workspace, staff, as_user):
    CalendarFactory(workspace=workspace, name="Consultations", slug="consult")
    CalendarFactory(name="Globex calendar")
    response = as_user(staff).get(reverse("calendar_list", args=["acme"]))
    assert response.status_code == 200
    assert "Consultations" in response.text and "$49.99" in response.text
    assert "/book/consult/" in response.text and "Globex calendar" not in response.text
    assert 'href="/w/acme/calendars/"' in response.text  # the nav link


def test_the_list_answers_htmx_with_the_partial(staff, as_user):
    response = as_user(staff).get(
        reverse("calendar_list", args=["acme"]),
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="calendar-results",
    )
    assert "<html" not in response.text and "No calendars yet" in response.text


def test_creating_a_calendar_parses_the_price_and_saves_the_windows(workspace, staff, as_user):
    data = {
        **_post(),
        **_windows((0, "09:00", "12:00"), (0, "13:00", "17:00"), (4, "10:00", "11:00")),
    }
    assert as_user(staff).get(reverse("calendar_create", args=["acme"])).status_code == 200
    response = as_user(staff).post(reverse("calendar_create", args=["acme"]), data)
    calendar = Calendar.objects.get()
    assert response.status_code == 302 and response["Location"] == calendar.get_absolute_url()
    assert (calendar.price_amount, calendar.price_currency) == (4999, "usd")
    assert calendar.time_zone == "Europe/Berlin" and calendar.workspace == workspace
    assert [(a.weekday, a.start_time, a.end_time) for a in calendar.availability.all()] == [
        (0, dt.time(9), dt.time(12)),
        (0, dt.time(13), dt.time(17)),
        (4, dt.time(10), dt.time(11)),
    ]
    edit = as_user(staff).get(calendar.get_absolute_url())
    assert 'value="49.99"' in edit.text and 'value="13:00"' in edit.text


def test_a_zero_decimal_currency_takes_whole_amounts(staff, as_user):
    data = {**_post(price="5000", currency="jpy"), **_windows((0, "09:00", "10:00"))}
    as_user(staff).post(reverse("calendar_create", args=["acme"]), data)
    assert Calendar.objects.get().price_amount == 5000


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"price": "49,99"}, "price", "Enter an amount such as 49.99"),
        ({"price": "0.10"}, "price", "minimum charge"),
        ({"price": "5.5", "currency": "jpy"}, "price", "no decimals"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "not a time zone name"),
        ({"slot_minutes": "0"}, "slot_minutes", "greater than or equal to 5"),
        ({"slug": "Not a slug!"}, "slug", "Enter a valid"),
    ],
)
def test_bad_calendar_input_is_refused_next_to_the_field(staff, as_user, overrides, field, message):
    data = {**_post(**overrides), **_windows((0, "09:00", "12:00"))}
    response = as_user(staff).post(reverse("calendar_create", args=["acme"]), data)
    assert response.status_code == 200
    assert message in str(response.context["form"].errors[field])
    assert not Calendar.objects.exists()


def test_overlapping_or_backwards_windows_are_refused(staff, as_user):
    url = reverse("calendar_create", args=["acme"])
    overlap = as_user(staff).post(
        url, {**_post(), **_windows((1, "09:00", "12:00"), (1, "11:00", "13:00"))}
    )
    assert "overlap" in overlap.text
    backwards = as_user(staff).post(url, {**_post(), **_windows((1, "12:00", "09:00"))})
    assert "The end must be after the start." in backwards.text
    assert not Calendar.objects.exists()


def test_a_calendar_slug_is_unique_across_workspaces(workspace):
    CalendarFactory(slug="consult")
    with pytest.raises(ValidationError) as caught:
        calendar_save(
            workspace=workspace,
            name="C",
            slug="consult",
            slot_minutes=30,
            time_zone="UTC",
            price_amount=0,
            price_currency="usd",
            availability=[],
        )
    assert "slug" in caught.value.message_dict


def test_editing_replaces_the_windows(workspace, staff, as_user):
    calendar = CalendarFactory(workspace=workspace, slug="consult")
    # As the page posts it: the stored row, then blank extra rows (Monday, no times).
    data = {**_post(), **_windows((5, "10:00", "11:00"), (0, "", ""), (0, "", ""))}
    data["availability-INITIAL_FORMS"] = "1"
    assert as_user(staff).post(calendar.get_absolute_url(), data).status_code == 302
    assert [a.weekday for a in calendar.availability.all()] == [5]


def test_appointments_list_filters_by_calendar_and_status(workspace, staff, as_user):
    one = CalendarFactory(workspace=workspace, name="One")
    two = CalendarFactory(workspace=workspace, name="Two")
    AppointmentFactory(calendar=one, name="Ann")
    AppointmentFactory(calendar=two, name="Bob", status="confirmed")
    AppointmentFactory(name="Globex person")
    url = reverse("appointment_list", args=["acme"])
    everything = as_user(staff).get(url)
    assert "Ann" in everything.text and "Bob" in everything.text
    assert "Globex person" not in everything.text and "Unpaid" in everything.text
    only_two = as_user(staff).get(url, {"calendar": str(two.uuid)})
    assert "Bob" in only_two.text and "Ann" not in only_two.text
    partial = as_user(staff).get(url, {"status": "booked"}, HTTP_HX_REQUEST="true",
                                 HTTP_HX_TARGET="appointment-results")  # fmt: skip
    assert "<html" not in partial.text and "Ann" in partial.text and "Bob" not in partial.text


def test_appointments_list_keeps_a_constant_number_of_queries(
    workspace, staff, as_user, django_assert_max_num_queries
):
    calendar = CalendarFactory(workspace=workspace)
    AppointmentFactory(calendar=calendar)
    client, url = as_user(staff), reverse("appointment_list", args=["acme"])
    client.get(url)
    with django_assert_max_num_queries(15) as few:
        client.get(url)
    for _ in range(10):
        AppointmentFactory(calendar=CalendarFactory(workspace=workspace))
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url)


def test_the_detail_page_shows_price_and_payment_status(workspace, staff, as_user):
    appointment = AppointmentFactory(calendar=CalendarFactory(workspace=workspace))
    response = as_user(staff).get(appointment.get_absolute_url())
    assert response.status_code == 200
    assert "$49.99" in response.text and "Unpaid" in response.text
    assert 'name="payment_status"' not in response.text  # billing sets it, not staff


def test_staff_change_the_status_and_it_starts_a_run(workspace, staff, as_user):
    appointment = AppointmentFactory(calendar=CalendarFactory(workspace=workspace))
    workflow = published_workflow(workspace, "appointment_status_changed", {"statuses": ["showed"]})
    client = as_user(staff)
    assert client.post(appointment.get_absolute_url(), {"status": "confirmed"}).status_code == 302
    assert not Run.objects.exists()  # the filter wants "showed"
    client.post(appointment.get_absolute_url(), {"status": "showed"})
    appointment.refresh_from_db()
    assert appointment.status == "showed" and appointment.status_changes == 2
    run = Run.objects.get(workflow=workflow)
    assert run.cause == f"appointment_status:{appointment.uuid}:2"
    assert run.trigger["type"] == "appointment_status_changed"
    assert run.trigger["appointment"]["status"] == "showed"
    assert run.trigger["appointment"]["previous_status"] == "confirmed"
    assert run.trigger["appointment"]["price"] == {"amount": 4999, "currency": "usd"}


def test_setting_the_same_status_changes_nothing(workspace):
    appointment = AppointmentFactory(calendar=CalendarFactory(workspace=workspace))
    published_workflow(workspace, "appointment_status_changed")
    appointment_status_set(appointment=appointment, status="booked")
    appointment.refresh_from_db()
    assert appointment.status_changes == 0 and not Run.objects.exists()


def test_an_unknown_status_is_refused(workspace, staff, as_user):
    appointment = AppointmentFactory(calendar=CalendarFactory(workspace=workspace))
    response = as_user(staff).post(appointment.get_absolute_url(), {"status": "paid"})
    assert response.status_code == 200 and "Select a valid choice" in response.text


def test_restoring_a_cancelled_appointment_whose_slot_was_rebooked_is_refused(
    workspace, staff, as_user
):
    calendar = CalendarFactory(workspace=workspace)
    cancelled = AppointmentFactory(calendar=calendar, status="cancelled")
    AppointmentFactory(calendar=calendar, starts_at=cancelled.starts_at)
    response = as_user(staff).post(cancelled.get_absolute_url(), {"status": "booked"})
    assert response.status_code == 200 and "Another appointment holds this time" in response.text
    cancelled.refresh_from_db()
    assert cancelled.status == "cancelled" and cancelled.status_changes == 0


def test_another_workspaces_appointment_is_404_and_viewers_get_403(
    workspace, staff, viewer, as_user
):
    globex = AppointmentFactory()
    url = reverse("appointment_detail", args=["acme", globex.uuid])
    assert as_user(staff).post(url, {"status": "cancelled"}).status_code == 404
    globex.refresh_from_db()
    assert globex.status == "booked"
    assert as_user(viewer).get(reverse("appointment_list", args=["acme"])).status_code == 403


# Free slots


@time_machine.travel(MONDAY_8AM, tick=False)
def test_free_slots_cover_14_days_in_the_calendars_zone_without_taken_ones(workspace):
    calendar = CalendarFactory(workspace=workspace)  # Mon-Fri 09:00-12:00, 30 minutes
    taken = dt.datetime(2030, 1, 7, 9, 30, tzinfo=NY)
    AppointmentFactory(calendar=calendar, starts_at=taken)
    AppointmentFactory(calendar=calendar, starts_at=taken + dt.timedelta(hours=1),
                       status="cancelled")  # fmt: skip
    days = calendar_days(calendar)
    assert len(days) == 14 and days[0].date == dt.date(2030, 1, 7)
    monday = [s.strftime("%H:%M") for s in days[0].slots]
    assert monday == ["09:00", "10:00", "10:30", "11:00", "11:30"]
    assert days[5].slots == [] and days[6].slots == []  # the weekend
    assert sum(len(d.slots) for d in days) == 10 * 6 - 1
    assert days[0].slots[0].utcoffset() == dt.timedelta(hours=-5)


@time_machine.travel(dt.datetime(2030, 1, 7, 10, 5, tzinfo=NY), tick=False)
def test_past_slots_of_today_are_not_offered(workspace):
    calendar = CalendarFactory(workspace=workspace)
    assert [s.strftime("%H:%M") for s in calendar_days(calendar)[0].slots] == [
        "10:30",
        "11:00",
        "11:30",
    ]
    assert not slot_is_offered(calendar, dt.datetime(2030, 1, 7, 10, 0, tzinfo=NY))
    assert slot_is_offered(calendar, dt.datetime(2030, 1, 7, 15, 30, tzinfo=dt.UTC))  # 10:30 NY
    assert not slot_is_offered(calendar, dt.datetime(2030, 1, 7, 10, 45, tzinfo=NY))  # off-grid
    assert not slot_is_offered(calendar, dt.datetime(2030, 1, 21, 9, 0, tzinfo=NY))  # day 15


@time_machine.travel(dt.datetime(2030, 3, 9, 12, 0, tzinfo=NY), tick=False)
def test_the_hour_skipped_by_daylight_saving_time_has_no_slot(workspace):
    calendar = CalendarFactory(workspace=workspace, slot_minutes=60, weekdays=False)
    AvailabilityFactory(calendar=calendar, weekday=6, start_time=dt.time(1), end_time=dt.time(4))
    sunday = calendar_days(calendar)[1]  # 2030-03-10, clocks go from 02:00 to 03:00
    assert sunday.date == dt.date(2030, 3, 10)
    assert [s.strftime("%H:%M %z") for s in sunday.slots] == ["01:00 -0500", "03:00 -0400"]


# The trigger classes


def _payload(calendar_id="c1", status="booked"):
    return {"type": "appointment_booked", "appointment": {"status": status},
            "calendar": {"id": calendar_id}}  # fmt: skip


def test_the_triggers_match_calendars_and_statuses():
    assert Booked.matches({}, _payload())
    assert Booked.matches({"calendars": ["c1"], "statuses": ["booked"]}, _payload())
    assert not Booked.matches({"calendars": ["c2"]}, _payload())
    assert not StatusChanged.matches({"statuses": ["showed"]}, _payload(status="no_show"))
    assert StatusChanged.matches(
        {"calendars": [], "statuses": ["no_show"]}, _payload(status="no_show")
    )


def test_the_trigger_config_form_and_description(workspace):
    calendar = CalendarFactory(workspace=workspace, name="Consultations")
    CalendarFactory(name="Globex calendar")
    data = {"calendars": [str(calendar.uuid)], "statuses": ["confirmed", "showed"]}
    form = StatusChanged.config_form(data, workspace=workspace)
    assert [label for _, label in form.fields["calendars"].choices] == ["Consultations"]
    assert form.is_valid() and form.to_config() == data
    assert StatusChanged.describe(data, workspace) == (
        "Appointment status changed: Consultations; status Confirmed, Showed"
    )
    assert Booked.describe({}, workspace) == "Appointment booked: any calendar"


def test_the_samples_use_the_workspaces_first_calendar(workspace):
    assert Booked.sample(workspace)["calendar"]["name"] == "Consultations"
    calendar = CalendarFactory(workspace=workspace, name="Dental", price_amount=2500)
    sample = StatusChanged.sample(workspace)
    assert sample["type"] == "appointment_status_changed"
    assert sample["calendar"] == {"id": str(calendar.uuid), "name": "Dental", "slug": calendar.slug}
    assert sample["appointment"]["price"] == {"amount": 2500, "currency": "usd"}
    assert sample["appointment"]["previous_status"] == "booked"
    assert Booked.sample(workspace)["appointment"]["previous_status"] is None
    for output in Booked.outputs:
        value = sample
        for part in output.split("."):
            value = value[part]
    assert dt.datetime.fromisoformat(sample["appointment"]["starts_at"]).tzinfo is not None


def test_appointment_model_refuses_a_second_live_booking_of_a_slot(workspace):
    from django.db import IntegrityError, transaction

    first = AppointmentFactory(calendar=CalendarFactory(workspace=workspace))
    with pytest.raises(IntegrityError), transaction.atomic():
        AppointmentFactory(calendar=first.calendar, starts_at=first.starts_at)
    AppointmentFactory(calendar=first.calendar, starts_at=first.starts_at, status="cancelled")
    assert Appointment.objects.count() == 2
