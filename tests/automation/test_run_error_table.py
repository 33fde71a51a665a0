"""The run page holds TaskJuice's error table: each failed step shows its normalized code and
whether it will be retried; after the last retry it no longer says it will be."""

from __future__ import annotations

import pytest

from automation.actions.base import ActionError
from automation.actions.stripe_common import stripe_errors
from automation.models import Run, StepRun
from integrations.gateway.errors import CONFLICT, IN_PROGRESS, GatewayError
from tests.automation.conftest import charge_step, publish
from tests.factories import ContactFactory


def _page(as_user, owner, run) -> str:
    return as_user(owner).get(run.get_absolute_url()).content.decode()


def test_rate_limited_to_the_last_retry_no_longer_says_it_will_be_retried(
    workspace, connection, contact, trigger_run, sandbox, owner, as_user, settings
):
    publish(workspace, [charge_step(connection)])
    sandbox.control.inject_fault(method="POST", path="/v1/payment_intents", kind="429", count=99)
    run = trigger_run(workspace, contact=contact)
    html = _page(as_user, owner, run)
    attempts = len(settings.WORKFLOW_RETRY_DELAYS) + 1
    assert "<code>RATE_LIMITED</code>" in html
    assert f"Not retried any more: gave up after {attempts} attempts." in html
    assert "will be retried" not in html.lower()


def test_a_retrying_step_says_it_will_be_retried(workspace, owner, as_user):
    run = Run.objects.filter(pk=_failed_run(workspace, "RETRYING").pk).get()
    html = _page(as_user, owner, run)
    assert "Will be retried automatically" in html


def test_a_decline_is_payment_required_and_not_retried(
    workspace, connection, stripe_client, trigger_run, owner, as_user
):
    from tests.conftest import saved_customer

    declined = ContactFactory(
        workspace=workspace,
        email="d@example.com",
        stripe_customer_id=saved_customer(stripe_client, card="4000000000000341"),
    )
    publish(workspace, [charge_step(connection)])
    run = trigger_run(workspace, contact=declined)
    html = _page(as_user, owner, run)
    assert "<code>PAYMENT_REQUIRED</code>" in html
    assert "Not retried: the payment was declined." in html


@pytest.mark.parametrize(
    ("stripe_code", "retryable"), [(IN_PROGRESS, True), ("", False), ("resource_exists", False)]
)
def test_a_409_is_retried_only_while_the_same_request_is_in_progress(stripe_code, retryable):
    error = GatewayError(CONFLICT, "conflict", http_status=409, stripe_code=stripe_code)
    with pytest.raises(ActionError) as info, stripe_errors():
        raise error
    assert info.value.code == "CONFLICT" and info.value.retryable is retryable


def test_a_conflict_being_waited_for_is_shown_as_such(workspace, owner, as_user):
    run = _failed_run(workspace, "RETRYING", code="CONFLICT")
    assert "Waiting for the same request, still in progress at Stripe" in _page(as_user, owner, run)


def _failed_run(workspace, status, code="PROVIDER_ERROR"):
    from automation.services import workflows as services

    workflow = services.workflow_create(workspace=workspace, name="W")
    run = Run.objects.create(
        workspace=workspace, workflow=workflow, is_test=True, trigger_type="manual",
        cause="c:1", test_definition=workflow.definition, status="running",
    )  # fmt: skip
    StepRun.objects.create(
        run=run, step_key="charge", step_type="stripe_one_time_charge", name="Charge",
        status=status.lower(), attempts=2, error_code=code, error_message="Stripe said no.",
    )  # fmt: skip
    return run
