"""Times on staff pages are in the viewer's zone (the tz cookie the browser sets) with the
zone shown; a booking is also shown in its calendar's zone, named."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from automation.models import Appointment
from billing.models import Payment
from portal.models import Contact
from tests.automation.factories import AppointmentFactory, CalendarFactory
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

# 14:30 UTC: 9:30 in New York (EST, winter), 15:30 in Paris (CET).
WINTER = dt.datetime(2030, 1, 7, 14, 30, tzinfo=dt.UTC)
# 13:30 UTC: 9:30 in New York (EDT, summer).
SUMMER = dt.datetime(2030, 7, 8, 13, 30, tzinfo=dt.UTC)


@pytest.fixture
def appointment(workspace):
    calendar = CalendarFactory(workspace=workspace, name="Cleaning", time_zone="America/New_York")
    return AppointmentFactory(calendar=calendar, name="Jane Cooper", starts_at=WINTER,
                              ends_at=WINTER + dt.timedelta(minutes=30))  # fmt: skip


def _viewer(as_user, owner, zone: str | None):
    client = as_user(owner)
    if zone:
        client.cookies["tz"] = zone
    return client


def _detail(client, appointment) -> str:
    url = reverse("appointment_detail", args=[appointment.workspace.slug, appointment.uuid])
    return client.get(url).text


def _when(page: str) -> str:
    return page.split("<dt>When</dt>")[1].split("</dd>")[0]


def test_a_viewer_in_new_york_sees_appointment_times_in_est_with_the_zone(
    as_user, owner, workspace, appointment
):
    client = _viewer(as_user, owner, "America/New_York")
    when = _when(_detail(client, appointment))
    assert "Jan. 7, 2030, 9:30 a.m. – 10 a.m. EST" in when
    assert "2:30 p.m." not in when  # not UTC
    assert "At the calendar" not in when  # the calendar's zone is the viewer's: said once
    listing = client.get(reverse("appointment_list", args=[workspace.slug])).text
    assert "Jan. 7, 2030, 9:30 a.m. EST" in listing and "2:30 p.m." not in listing


def test_summer_times_say_edt(as_user, owner, appointment):
    Appointment.objects.filter(pk=appointment.pk).update(
        starts_at=SUMMER, ends_at=SUMMER + dt.timedelta(minutes=30)
    )
    when = _when(_detail(_viewer(as_user, owner, "America/New_York"), appointment))
    assert "July 8, 2030, 9:30 a.m. – 10 a.m. EDT" in when


def test_a_viewer_elsewhere_sees_their_zone_and_the_calendars(as_user, owner, appointment):
    client = _viewer(as_user, owner, "Europe/Paris")
    when = _when(_detail(client, appointment))
    assert "Jan. 7, 2030, 3:30 p.m. – 4 p.m. CET" in when
    assert "At the calendar: Jan. 7, 2030, 9:30 a.m. EST (America/New_York)" in when


def test_without_a_zone_cookie_times_say_utc(as_user, owner, appointment):
    when = _when(_detail(_viewer(as_user, owner, None), appointment))
    assert "Jan. 7, 2030, 2:30 p.m. – 3 p.m. UTC" in when


def test_payments_and_contacts_show_times_in_the_viewers_zone(as_user, owner, workspace):
    contact = ContactFactory(workspace=workspace, name="Jane Cooper")
    payment = Payment.objects.create(
        workspace=workspace, contact=contact, source=Payment.Source.CARD_ON_FILE,
        idempotency_key="payment:zone:intent", amount=4999, currency="usd",
        status=Payment.Status.SUCCEEDED, succeeded_at=WINTER,
    )  # fmt: skip
    Payment.objects.filter(pk=payment.pk).update(created_at=WINTER)
    Contact.objects.filter(pk=contact.pk).update(created_at=WINTER)
    client = _viewer(as_user, owner, "America/New_York")
    detail = client.get(payment.get_absolute_url()).text
    assert "Jan. 7, 2030, 9:30 a.m. EST" in detail and "2:30 p.m." not in detail
    listing = client.get(reverse("payment_list", args=[workspace.slug])).text
    assert "9:30 a.m. EST" in listing
    page = client.get(reverse("contact_detail", args=[workspace.slug, contact.uuid])).text
    assert "Jan. 7, 2030, 9:30 a.m. EST" in page


@time_machine.travel(dt.datetime(2030, 1, 7, 8, 0, tzinfo=zoneinfo.ZoneInfo("America/New_York")))
def test_a_booking_is_confirmed_in_the_calendars_zone_whatever_the_visitors(client, workspace):
    calendar = CalendarFactory(workspace=workspace, slug="cleaning", time_zone="America/New_York")
    client.cookies["tz"] = "Asia/Tokyo"
    slot = dt.datetime(2030, 1, 7, 9, 30, tzinfo=zoneinfo.ZoneInfo("America/New_York"))
    data = {"slot": slot.isoformat(), "name": "Jane Cooper", "email": "jane@example.com"}
    response = client.post(reverse("public_booking", args=[calendar.slug]), data, follow=True)
    assert "at 09:30 EST (America/New_York)" in response.text


@pytest.mark.parametrize(
    ("zone", "label"),
    [("America/Sao_Paulo", "UTC-03"), ("Asia/Kolkata", "IST"), ("UTC", "UTC")],
)
def test_a_zone_without_an_abbreviation_shows_its_offset(zone, label):
    rendered = Template("{% load zoned %}{{ when|in_zone:zone }}").render(
        Context({"when": WINTER, "zone": zone})
    )
    assert rendered.endswith(f" {label}")
    with timezone.override(zoneinfo.ZoneInfo(zone)):
        local = Template("{% load zoned %}{{ when|local }}").render(Context({"when": WINTER}))
    assert local == rendered


def test_a_payments_booking_shows_the_calendars_zone_too(as_user, owner, workspace, appointment):
    payment = Payment.objects.create(
        workspace=workspace, source=Payment.Source.CARD_ON_FILE, amount=4999, currency="usd",
        idempotency_key="payment:booking-zone:intent", status=Payment.Status.SUCCEEDED,
    )  # fmt: skip
    payment.appointments.add(appointment)
    page = _viewer(as_user, owner, "Europe/Paris").get(payment.get_absolute_url()).text
    bookings = page.split("<h2>Bookings</h2>")[1].split("</table>")[0]
    assert "Jan. 7, 2030, 3:30 p.m. CET" in bookings
    assert "(Jan. 7, 2030, 9:30 a.m. EST at the calendar)" in bookings
