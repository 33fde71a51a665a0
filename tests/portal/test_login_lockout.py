"""Log-in brute force: 5 wrong passwords lock that username from that address for 15 minutes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

LOCKED = "Too many failed log-ins; try again in 15 minutes or reset your password"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _log_in(client: Client, username: str, password: str):
    return client.post(reverse("login"), {"username": username, "password": password})


def _fail(client: Client, username: str, times: int) -> None:
    for _ in range(times):
        _log_in(client, username, "wrong-password")


def _locked_out(response) -> bool:
    return response.status_code in (403, 429) and LOCKED in response.text


def test_five_wrong_passwords_lock_out_even_the_right_one(client, owner):
    with time_machine.travel(START, tick=False):
        for _ in range(4):
            response = _log_in(client, "owner@acme.test", "wrong-password")
            assert response.status_code == 200 and "correct username and password" in response.text
        assert _locked_out(_log_in(client, "owner@acme.test", "wrong-password"))

        response = _log_in(client, "owner@acme.test", PASSWORD)

    assert _locked_out(response)
    assert reverse("password_reset") in response.text
    assert SESSION_KEY not in client.session


def test_the_lock_holds_one_username_from_one_address_only(client, owner, staff):
    with time_machine.travel(START, tick=False):
        _fail(client, "owner@acme.test", 5)

        other_user = _log_in(client, "staff@acme.test", PASSWORD)
        elsewhere = _log_in(Client(REMOTE_ADDR="203.0.113.7"), "owner@acme.test", PASSWORD)

    assert other_user.status_code == 302
    assert elsewhere.status_code == 302


def test_the_lock_lifts_15_minutes_after_the_last_attempt(client, owner):
    with time_machine.travel(START, tick=False) as clock:
        _fail(client, "owner@acme.test", 5)
        clock.shift(timedelta(minutes=14, seconds=59))
        # An attempt during the lock starts the cool-off again (axes' default): a script that
        # keeps trying stays locked out.
        assert _locked_out(_log_in(client, "owner@acme.test", PASSWORD))

        clock.shift(timedelta(minutes=15, seconds=1))
        response = _log_in(client, "owner@acme.test", PASSWORD)
        assert int(client.session[SESSION_KEY]) == owner.pk  # the session expires in real time

    assert response.status_code == 302


def test_a_successful_log_in_resets_the_count(client, owner):
    with time_machine.travel(START, tick=False):
        _fail(client, "owner@acme.test", 4)
        assert _log_in(client, "owner@acme.test", PASSWORD).status_code == 302
        client.logout()
        _fail(client, "owner@acme.test", 4)

        response = _log_in(client, "owner@acme.test", PASSWORD)

    assert response.status_code == 302
