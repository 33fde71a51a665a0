"""The OpenAPI check applied to every sandbox test (conftest.py) really checks."""

from __future__ import annotations

from .openapi import find_operation, log_errors, response_errors


def test_operations_match_literal_paths_before_templates():
    assert find_operation("GET", "/v1/customers/search").template == "/v1/customers/search"
    assert find_operation("GET", "/v1/customers/cus_1").template == "/v1/customers/{customer}"
    assert find_operation("GET", "/v1/not_in_the_subset") is None


def test_a_body_outside_the_schema_is_reported():
    errors = response_errors("GET", "/v1/customers/cus_1", 200, {"id": "cus_1"})
    assert errors and all("is a required property" in e for e in errors)
    assert response_errors("GET", "/v1/customers/cus_1", 404, {"error": {"type": 7}})


def test_nullable_fields_accept_null_and_errors_fit_the_error_schema():
    error = {"error": {"type": "invalid_request_error", "message": "No such customer: 'x'"}}
    assert response_errors("GET", "/v1/customers/cus_1", 404, error) == []


def test_the_request_log_keeps_the_answers_the_check_reads(stripe_sandbox):
    secret, _, _ = stripe_sandbox.new_account()
    client = stripe_sandbox.client(secret)
    customer = client.v1.customers.create(params={"email": "a@example.com"})

    entries = stripe_sandbox.control.requests(path="/v1/customers")
    assert entries[-1]["response"]["id"] == customer.id
    assert log_errors(entries) == []
    broken = [dict(entries[-1], response={"id": customer.id})]
    assert log_errors(broken)
