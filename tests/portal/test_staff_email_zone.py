"""Staff read e-mails at their own clock: the zone their browser last reported (the `tz`
cookie, remembered once per change), else the workspace's, the zone named either way."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import Payment
from billing.services.effects import payment_succeeded
from portal import perms
from portal.models import UserPreferences
from tests.conftest import _member
from tests.portal.test_emails_html import parts

pytestmark = pytest.mark.django_db


def _visit(client, zone: str, path: str = "/w/acme/"):
    client.cookies["tz"] = zone
    assert client.get(path).status_code == 200


def _preferences_queries(queries) -> list[str]:
    return [q["sql"] for q in queries if "portal_userpreferences" in q["sql"]]


def test_the_zone_is_remembered_once_not_on_every_page(owner, as_user):
    client = as_user(owner)
    _visit(client, "America/Chicago")
    first = UserPreferences.objects.get(user=owner)
    assert first.time_zone == "America/Chicago"

    with CaptureQueriesContext(connection) as queries:
        for path in ("/w/acme/", "/w/acme/", "/w/acme/settings/"):
            client.get(path)
    assert _preferences_queries(queries.captured_queries) == []
    assert UserPreferences.objects.get(user=owner).updated_at == first.updated_at

    # Another zone reported: written once; an unusable one changes nothing.
    _visit(client, "Europe/Paris")
    _visit(client, "Nowhere/City")
    assert UserPreferences.objects.get(user=owner).time_zone == "Europe/Paris"


def test_a_new_session_with_the_same_zone_reads_but_does_not_write(owner, as_user):
    UserPreferences.objects.create(user=owner, time_zone="America/Chicago")
    client = as_user(owner)
    with CaptureQueriesContext(connection) as queries:
        _visit(client, "America/Chicago")
    sent = _preferences_queries(queries.captured_queries)
    written = [sql for sql in sent if not sql.startswith("SELECT")]
    assert written == []


def test_anonymous_visitors_store_nothing(client, workspace):
    client.cookies["tz"] = "America/Chicago"
    client.get("/healthz/")
    assert not UserPreferences.objects.exists()


def test_each_owner_reads_the_paid_email_at_their_own_clock(
    workspace, owner, org_units, as_user, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "http://testserver"
    workspace.time_zone = "Europe/Berlin"
    workspace.save()
    _visit(as_user(owner), "America/Chicago")  # the owner's browser is in Chicago
    other = _member(workspace, perms.OWNER, "second@acme.test", org_units["/acme"])
    payment = Payment.objects.create(
        workspace=workspace, source=Payment.Source.NEW_CARD, idempotency_key="test:zones",
        amount=4999, currency="usd", status=Payment.Status.SUCCEEDED,
        succeeded_at=dt.datetime(2030, 1, 7, 15, tzinfo=dt.UTC),
    )  # fmt: skip

    with django_capture_on_commit_callbacks(execute=True):
        payment_succeeded(payment)

    # One message per owner, not one to both.
    by_to = {tuple(m.to): parts(m) for m in mail.outbox}
    assert set(by_to) == {(owner.email,), (other.email,)}
    for part in by_to[(owner.email,)]:
        assert "Jan. 7, 2030, 9 a.m. CST" in part and "America/Chicago" in part
    # No zone known for the second owner: the workspace's, named.
    for part in by_to[(other.email,)]:
        assert "Jan. 7, 2030, 4 p.m. CET" in part and "Europe/Berlin" in part
