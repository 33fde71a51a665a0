"""Every answer the sandbox's own tests get from ``/v1/`` is checked against Stripe's OpenAPI
schema (``openapi.py``): a sandbox that answers in another shape than Stripe fails its tests."""

from __future__ import annotations

import pytest

from .openapi import log_errors


@pytest.fixture(autouse=True)
def answers_match_stripes_schema(stripe_sandbox):
    stripe_sandbox.control.keep_responses()
    yield
    errors = log_errors(stripe_sandbox.control.requests())
    if errors:
        shown = "\n".join(errors[:20])
        more = f"\n... and {len(errors) - 20} more" if len(errors) > 20 else ""
        pytest.fail(f"the sandbox answered outside Stripe's OpenAPI schema:\n{shown}{more}")
