"""Retry from the failed step: after a permanent failure (a decline) it is a new attempt with
a key of its own, `run:<run>:step:<key>:retry:<n>`, and a new ledger row; after failures of
unknown outcome (429s) it keeps the key, so Stripe answers with what it did."""

from __future__ import annotations

from django.urls import reverse

from automation.models import Run, StepRun
from billing.models import Payment
from tests.automation.conftest import charge_step, publish, saved_customer
from tests.factories import ContactFactory

INTENTS = "/v1/payment_intents"


def _retry(client, run, capture) -> Run:
    """The run history's "Retry from the failed step"; the worker runs on commit."""
    url = reverse("run_retry", args=["acme", run.workflow.uuid, run.uuid])
    with capture(execute=True):
        response = client.post(url)
    assert response.status_code == 302
    return Run.objects.get(pk=run.pk)


def _replace_card(stripe_client, customer: str) -> None:
    for card in stripe_client.v1.payment_methods.list(params={"customer": customer}).data:
        stripe_client.v1.payment_methods.detach(card.id)
    card = stripe_client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer})
    stripe_client.v1.customers.update(
        customer, params={"invoice_settings": {"default_payment_method": card.id}}
    )


def test_a_declined_step_retried_after_the_card_is_replaced_charges_once_with_a_new_key(
    workspace, connection, stripe_client, sandbox, trigger_run, owner, as_user,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    publish(workspace, [charge_step(connection, amount=4999)], max_amount_per_day=6000,
            allow_reentry=True)  # fmt: skip
    customer = saved_customer(stripe_client, "4000000000000341")  # attaches, declines
    lead = ContactFactory(workspace=workspace, stripe_customer_id=customer)
    run = trigger_run(workspace, contact=lead, cause="one")
    assert (run.status, run.error_code) == ("failed", "PAYMENT_REQUIRED")
    first_key = f"run:{run.uuid}:step:charge"
    assert run.steps.get().idempotency_key == first_key  # keys made before stay as they were

    client = as_user(owner)
    run = _retry(client, run, django_capture_on_commit_callbacks)  # the same card: a new decline
    assert (run.status, run.error_code) == ("failed", "PAYMENT_REQUIRED")
    assert run.steps.get().idempotency_key == f"{first_key}:retry:1"

    _replace_card(stripe_client, customer)
    run = _retry(client, run, django_capture_on_commit_callbacks)
    assert run.status == "succeeded", (run.error_code, run.error_message)
    step = run.steps.get()
    assert (step.generation, step.idempotency_key) == (2, f"{first_key}:retry:2")

    intents = stripe_client.v1.payment_intents.list(params={"limit": 100}).data
    assert [i.id for i in intents if i.status == "succeeded"] == [step.outputs["id"]]
    ledger = dict(Payment.objects.values_list("idempotency_key", "status"))
    assert ledger == {
        first_key: "failed",
        f"{first_key}:retry:1": "failed",
        f"{first_key}:retry:2": "succeeded",
    }
    posts = sandbox.control.requests(path=INTENTS, method="POST")
    assert sorted(r["idempotency_key"] for r in posts) == sorted(ledger)  # one each

    # The retried charge counts towards the workflow's daily maximum.
    paying = ContactFactory(workspace=workspace, stripe_customer_id=saved_customer(stripe_client))
    second = trigger_run(workspace, contact=paying, cause="two")
    assert second.status == "failed" and "daily maximum ($60.00)" in second.error_message
    assert len(sandbox.control.requests(path=INTENTS, method="POST")) == 3


def test_a_step_that_failed_on_429s_keeps_its_key_on_retry(
    workspace, connection, contact, stripe_client, sandbox, trigger_run, owner, as_user, settings,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    publish(workspace, [charge_step(connection)])
    attempts = len(settings.WORKFLOW_RETRY_DELAYS) + 1
    sandbox.control.inject_fault(method="POST", path=INTENTS, kind="429", count=attempts)
    run = trigger_run(workspace, contact=contact)
    assert (run.status, run.error_code) == ("failed", "RATE_LIMITED")
    assert StepRun.objects.get(run=run).error_retryable

    run = _retry(as_user(owner), run, django_capture_on_commit_callbacks)
    assert run.status == "succeeded", (run.error_code, run.error_message)
    key = f"run:{run.uuid}:step:charge"
    step = run.steps.get()
    assert (step.generation, step.idempotency_key) == (0, key)
    posts = sandbox.control.requests(path=INTENTS, method="POST")
    assert len(posts) == attempts + 1 and {r["idempotency_key"] for r in posts} == {key}
    assert len(stripe_client.v1.payment_intents.list().data) == 1
    assert Payment.objects.get().idempotency_key == key


def test_the_run_page_says_a_step_was_retried_as_a_new_request(
    workspace, connection, stripe_client, trigger_run, owner, as_user,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    publish(workspace, [charge_step(connection)])
    customer = saved_customer(stripe_client, "4000000000000341")
    run = trigger_run(workspace, contact=ContactFactory(workspace=workspace,
                                                        stripe_customer_id=customer))  # fmt: skip
    client = as_user(owner)
    run = _retry(client, run, django_capture_on_commit_callbacks)
    page = client.get(run.get_absolute_url()).text
    assert "retried 1 time after a failure, as a new request to Stripe" in page
