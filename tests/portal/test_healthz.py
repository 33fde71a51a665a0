"""The health check: JSON, no database, reachable over plain HTTP behind the SSL redirect."""

from __future__ import annotations

import pytest


@pytest.mark.django_db
def test_it_answers_ok_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok"}


def test_it_refuses_a_post(client):
    assert client.post("/healthz/").status_code == 405


@pytest.mark.django_db
def test_a_load_balancer_reaches_it_over_plain_http_when_pages_redirect_to_https(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz/").status_code == 200
    assert client.get("/accounts/login/").status_code == 301
