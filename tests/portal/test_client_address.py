"""The client's address behind trusted proxies, for the rate limits and the lock-out alike.

Behind a proxy every request's REMOTE_ADDR is the proxy: keyed on it, one visitor's requests
used up every visitor's budget, and 5 wrong passwords from anyone locked the user out for
everyone. X-Forwarded-For is believed only across the proxies the settings trust."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from portal.ratelimit import client_address
from tests.factories import PASSWORD

PROXY = "10.0.0.5"


def _address(meta: dict) -> str:
    return client_address(RequestFactory().get("/", **meta))


def test_without_trusted_proxies_forwarded_headers_are_ignored(settings):
    settings.TRUSTED_PROXY_COUNT, settings.TRUSTED_PROXIES = 0, []
    assert _address({"REMOTE_ADDR": "198.51.100.7", "HTTP_X_FORWARDED_FOR": "1.2.3.4"}) == (
        "198.51.100.7"
    )


@pytest.mark.parametrize(
    ("forwarded", "client"),
    [
        ("198.51.100.7", "198.51.100.7"),
        ("1.2.3.4, 198.51.100.7", "198.51.100.7"),  # the client wrote the left one
        ("", PROXY),  # no header: the proxy itself asked
        ("not-an-address", PROXY),
    ],
)
def test_one_proxy_in_front_takes_the_entry_it_appended(settings, forwarded, client):
    settings.TRUSTED_PROXY_COUNT, settings.TRUSTED_PROXIES = 1, []
    assert _address({"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": forwarded}) == client


def test_two_proxies_in_front_skip_the_inner_one(settings):
    settings.TRUSTED_PROXY_COUNT, settings.TRUSTED_PROXIES = 2, []
    meta = {"REMOTE_ADDR": "10.0.0.6", "HTTP_X_FORWARDED_FOR": "1.2.3.4, 198.51.100.7, 10.0.0.5"}
    assert _address(meta) == "198.51.100.7"


def test_trusted_networks_are_skipped_from_the_right_and_others_are_not_believed(settings):
    settings.TRUSTED_PROXY_COUNT, settings.TRUSTED_PROXIES = 0, ["10.0.0.0/8"]
    through = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "1.2.3.4, 198.51.100.7, 10.1.2.3"}
    assert _address(through) == "198.51.100.7"
    direct = {"REMOTE_ADDR": "203.0.113.50", "HTTP_X_FORWARDED_FOR": "198.51.100.7"}
    assert _address(direct) == "203.0.113.50"  # not from our proxy: its header means nothing


def test_behind_a_proxy_wrong_passwords_lock_out_only_their_sender(settings, owner):
    settings.TRUSTED_PROXY_COUNT = 1
    attacker = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.66")
    for _ in range(5):
        attacker.post(reverse("login"), {"username": "owner@acme.test", "password": "wrong"})
    owner_client = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.7")
    response = owner_client.post(
        reverse("login"), {"username": "owner@acme.test", "password": PASSWORD}
    )
    assert response.status_code == 302
    locked = attacker.post(reverse("login"), {"username": "owner@acme.test", "password": PASSWORD})
    assert locked.status_code in (403, 429)


def test_a_trusted_proxies_entry_that_is_no_address_stops_the_start(settings):
    from django.core.checks import run_checks

    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "proxy.internal"]
    errors = [e.msg for e in run_checks() if e.id == "portal.E003"]
    assert errors == ["TRUSTED_PROXIES entry 'proxy.internal' is not an address or network."]
