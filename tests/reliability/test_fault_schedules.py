"""Money moves exactly once: generated fault schedules for a workflow charge step and the
invoice pay form, checked against what the Stripe sandbox really did.

A schedule is two lists drawn by hypothesis:

- per-request faults, consumed in order by the portal's `POST /v1/payment_intents` calls:
  ``ok``; ``429``; ``500``; ``lost`` (Stripe executes, the answer never arrives); ``409``
  (an identical request with the same key is in flight elsewhere: a duplicate task or a
  double click, finishing before the portal's conflict backoff ends) and ``409_long`` (the
  same, still in flight when the backoff is over); ``ok+kill`` / ``lost+kill`` (the worker
  or web process dies right after Stripe executed, before anything is recorded); and
  storms of 2-6 consecutive ``429``;
- the deliveries around them: the task executed, the same task delivered twice, a worker
  taking over a stale run, an operator retrying a failed run, a payer resubmitting the form,
  Stripe's webhooks arriving, and time travel: 25 hours (Stripe forgets idempotency keys
  after 24 h; the sandbox does not, so the test drops its keys at that point, as Stripe
  would) or 1 hour (a pay-form reservation expires).

After every delivery: the ledger never claims a success Stripe does not have, nor a failure
for money that moved. At the end (webhooks delivered, then the normal recovery with no
faults): at most one succeeded PaymentIntent per step / pay attempt, exactly one after the
recovery, the ledger (and invoice) agrees with the sandbox, and every request carried the
same idempotency key and body.

RELIABILITY_EXAMPLES schedules (100 by default, 1000 in CI: .ci/run sets it) are split 60/40
between the charge step (two workflows, 30% each) and the pay form (40%). Slow:
`pytest -m "not slow"` leaves them out.
"""

from __future__ import annotations

import os
import threading
import time
import types
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from stripe_sandbox.state import STATE

from automation.engine import run_execute, stale_after
from automation.models import Run, StepRun
from automation.services.runs import run_retry_from_failed, runs_start_for_trigger
from billing.models import Payment
from billing.services import charges
from integrations.gateway.errors import GatewayError
from integrations.gateway.payments import payment_intent_create
from invoices.models import Invoice, InvoicePayment, PayerProfile
from invoices.payments import invoice_pay_card, payer_customer
from portal.models import Contact
from tests.automation.conftest import charge_step, publish
from tests.conftest import saved_customer
from tests.reliability.conftest import (
    INTENTS,
    deliver_all,
    example_savepoint,
    intents,
    sandbox_reset,
    webhook_endpoint,
)

EXAMPLES = int(os.environ.get("RELIABILITY_EXAMPLES", "100"))
CHARGE_EXAMPLES = max(EXAMPLES * 3 // 10, 1)  # per workflow: two of them
PAY_EXAMPLES = max(EXAMPLES - 2 * CHARGE_EXAMPLES, 1)

pytestmark = pytest.mark.slow

# The portal's conflict backoff (0.5 s, 1 s, 2 s) runs 100x faster here; an in-flight
# duplicate lasts less than the whole backoff ("409") or more ("409_long").
BACKOFF_SCALE = 0.01
GHOST_SECONDS = {"409": 0.02, "409_long": 0.25}

# "500": before execution (not saved); "500_after_execution" / "500_in_execution": Stripe
# began, made the intent or not, and saved its 500 for the key (replayed to every retry).
REQUEST_FAULTS = ("ok", "429", "500", "500_after_execution", "500_in_execution", "lost", "409",
                  "409_long", "ok+kill", "lost+kill")  # fmt: skip
faults = st.lists(
    st.one_of(
        st.sampled_from(REQUEST_FAULTS).map(lambda kind: [kind]),
        st.integers(2, 6).map(lambda n: ["429"] * n),  # a 429 storm
    ),
    max_size=6,
).map(lambda groups: [kind for group in groups for kind in group])

CHARGE_ACTIONS = ("deliver", "deliver_twice", "resume_stale", "retry_failed", "webhooks",
                  "travel_25h")  # fmt: skip
PAY_ACTIONS = ("submit", "submit_twice", "webhooks", "travel_25h", "travel_1h")


def _settings(examples: int):
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


class WorkerKilled(BaseException):
    """The process died: nothing after this point ran (not an Exception: nothing catches it)."""


class FaultyStripe:
    """Stands in for `payment_intent_create` in billing.services.charges: before each real
    call it arranges the next fault of the plan in the sandbox."""

    def __init__(self, sandbox):
        self.control = sandbox.control
        self.plan: list[str] = []
        self.ghosts: list[threading.Thread] = []
        self.stats = {"requests": 0, "conflicts": 0, "kills": 0}

    def __call__(self, credentials, **kwargs):
        kind = self.plan.pop(0) if self.plan else "ok"
        kill = kind.endswith("+kill")
        kind = kind.removesuffix("+kill")
        self.stats["requests"] += 1
        if kind in ("429", "500", "500_after_execution", "500_in_execution"):
            self.control.inject_fault(method="POST", path=INTENTS, kind=kind)
        elif kind == "lost":
            self.control.inject_fault(method="POST", path=INTENTS, kind="lost_response")
        elif kind in GHOST_SECONDS:
            self._ghost(credentials, kwargs, GHOST_SECONDS[kind])
        try:
            result = payment_intent_create(credentials, **kwargs)
        except GatewayError as error:
            if error.code == "CONFLICT":
                self.stats["conflicts"] += 1
            if kill:
                self.stats["kills"] += 1
                raise WorkerKilled from None
            raise
        if kill:
            self.stats["kills"] += 1
            raise WorkerKilled
        return result

    def _ghost(self, credentials, kwargs, seconds: float) -> None:
        """The same request (same key, same body) sent by someone else, still executing."""
        self.control.inject_fault(method="POST", path=INTENTS, kind="delay", delay=seconds)

        def send():
            try:
                payment_intent_create(credentials, **kwargs)
            except GatewayError:
                pass

        ghost = threading.Thread(target=send, daemon=True)
        ghost.start()
        self.ghosts.append(ghost)
        deadline = time.monotonic() + 2
        while self.control.faults() and time.monotonic() < deadline:
            time.sleep(0.002)  # until the sandbox took the ghost in (its delay began)
        time.sleep(0.005)

    def settle(self) -> None:
        """Wait for the requests in flight elsewhere to finish."""
        for ghost in self.ghosts:
            ghost.join(5)
        self.ghosts.clear()

    def clear(self) -> None:
        self.settle()
        self.plan.clear()
        self.control.clear_faults()


@pytest.fixture
def faulty_stripe(sandbox, monkeypatch):
    stripe = FaultyStripe(sandbox)
    monkeypatch.setattr(charges, "payment_intent_create", stripe)
    scaled = types.SimpleNamespace(sleep=lambda seconds: time.sleep(seconds * BACKOFF_SCALE))
    monkeypatch.setattr(charges, "time", scaled)
    return stripe


def forget_idempotency_keys() -> None:
    """Stripe prunes idempotency keys after 24 hours; the sandbox keeps them forever."""
    STATE.idempotency.entries.clear()


def assert_ledger_honest(payment: Payment | None, client, where: str) -> None:
    """What the ledger says at any moment is true of Stripe: a success is a succeeded intent,
    a failure means no money moved."""
    if payment is None:
        return
    payment.refresh_from_db()
    succeeded = {pi.id for pi in intents(client) if pi.status == "succeeded"}
    if payment.status == Payment.Status.SUCCEEDED:
        assert payment.stripe_payment_intent_id in succeeded, f"{where}: success not in Stripe"
    if payment.status == Payment.Status.FAILED:
        assert not succeeded, (
            f"{where}: the ledger records a failed payment ({payment.failure_code}) but Stripe "
            f"charged {sorted(succeeded)}"
        )


def assert_row_keys_one_body(sandbox, key: str) -> None:
    """Every request carried the row's key, or (after a 5xx, which Stripe replays for its key)
    a successor derived from the row, `<key>:attempt:<n>`; and always the same body."""
    requests = sandbox.control.requests(path=INTENTS, method="POST")
    assert requests, "Stripe was never called"
    keys = [r["idempotency_key"] for r in requests]
    assert keys[0] == key, keys
    successors = {f"{key}:attempt:{n}" for n in range(2, len(keys) + 2)}
    assert set(keys) <= {key} | successors, keys
    assert all(r["params"] == requests[0]["params"] for r in requests), [
        r["params"] for r in requests
    ]


# --- the workflow charge step ---------------------------------------------------------------


@pytest.fixture(params=[4999, 1500], ids=["$49.99", "$15.00"])
def charge_env(request, workspace, connection, contact, sandbox, stripe_client, faulty_stripe):
    """Two workflows (two test items, so pytest-xdist shares the schedules between cores)."""
    workflow = publish(workspace, [charge_step(connection, amount=request.param)])
    env = types.SimpleNamespace(
        amount=request.param,
        workspace=workspace,
        connection=connection,
        contact=contact,
        sandbox=sandbox,
        client=stripe_client,
        stripe=faulty_stripe,
        workflow=workflow,
        endpoint=webhook_endpoint(connection),
        examples=0,
    )
    yield env
    print(f"charge step {env.amount}: {env.examples} fault schedules run, {faulty_stripe.stats}")


def _charge_schedule(env, plan: list[str], actions: list[str]) -> None:
    sandbox_reset(env.sandbox, env.connection)
    customer = saved_customer(env.client)
    Contact.objects.filter(pk=env.contact.pk).update(stripe_customer_id=customer)
    env.stripe.plan = list(plan)
    with time_machine.travel(timezone.now(), tick=True) as clock:
        (run,) = runs_start_for_trigger(
            workspace=env.workspace,
            trigger_type="manual",
            trigger={"type": "manual"},
            cause=f"reliability:{uuid.uuid4()}",
            contact=Contact.objects.get(pk=env.contact.pk),
        )
        key = f"run:{run.uuid}:step:charge"

        def execute():
            try:
                run_execute(run_pk=run.pk)
            except WorkerKilled:
                pass  # the run stays claimed by a dead worker; its StepRun says running

        def retry_failed():
            run.refresh_from_db()
            if run.status == Run.Status.FAILED:
                run_retry_from_failed(run=run)
                execute()

        def resume_stale():
            clock.shift(stale_after() + timedelta(seconds=1))
            execute()  # what runs_resume_stale enqueues

        for action in actions:
            if action == "deliver":
                execute()
            elif action == "deliver_twice":
                execute()
                execute()
            elif action == "resume_stale":
                resume_stale()
            elif action == "retry_failed":
                retry_failed()
            elif action == "webhooks":
                env.stripe.settle()
                deliver_all(env.endpoint, env.client)
            elif action == "travel_25h":
                env.stripe.settle()
                clock.shift(timedelta(hours=25))
                forget_idempotency_keys()
            env.stripe.settle()
            payment = Payment.objects.filter(idempotency_key=key).first()
            assert_ledger_honest(payment, env.client, f"after {action}")

        # The end: Stripe's webhooks arrive, and the normal recovery runs without faults.
        env.stripe.clear()
        deliver_all(env.endpoint, env.client)
        for _ in range(3):
            run.refresh_from_db()
            if run.status == Run.Status.RUNNING:
                resume_stale()
            elif run.status == Run.Status.FAILED:
                retry_failed()
            elif run.status == Run.Status.QUEUED:
                execute()
        env.stripe.settle()
        deliver_all(env.endpoint, env.client)

    succeeded = [pi for pi in intents(env.client) if pi.status == "succeeded"]
    assert len(succeeded) <= 1, f"double charge: {[pi.id for pi in succeeded]}"
    payment = Payment.objects.get(idempotency_key=key)
    assert Payment.objects.count() == 1
    run.refresh_from_db()
    step = StepRun.objects.get(run=run, step_key="charge")
    assert run.status == Run.Status.SUCCEEDED, (run.status, run.error_code, run.error_message)
    assert len(succeeded) == 1, "the recovered run charged nothing"
    assert payment.status == Payment.Status.SUCCEEDED
    assert payment.stripe_payment_intent_id == succeeded[0].id
    assert (payment.amount, succeeded[0].amount) == (env.amount, env.amount)
    assert step.status == StepRun.Status.SUCCEEDED and step.outputs["id"] == succeeded[0].id
    assert_row_keys_one_body(env.sandbox, key)


@_settings(CHARGE_EXAMPLES)
@given(plan=faults, actions=st.lists(st.sampled_from(CHARGE_ACTIONS), min_size=1, max_size=6))
def test_a_charge_step_moves_money_exactly_once_under_any_fault_schedule(charge_env, plan, actions):
    note(f"faults={plan} actions={actions}")
    charge_env.examples += 1
    try:
        with example_savepoint():
            _charge_schedule(charge_env, plan, actions)
    finally:
        charge_env.stripe.clear()


# --- the invoice pay form -------------------------------------------------------------------


@pytest.fixture
def pay_env(work_item, payer, connection, sandbox, stripe_client, faulty_stripe):
    env = types.SimpleNamespace(
        work_item=work_item,
        payer=payer,
        connection=connection,
        sandbox=sandbox,
        client=stripe_client,
        stripe=faulty_stripe,
        endpoint=webhook_endpoint(connection),
        examples=0,
    )
    yield env
    print(f"pay form: {env.examples} fault schedules run, {faulty_stripe.stats}")


def _pay_schedule(env, amount: int, plan: list[str], actions: list[str]) -> None:
    sandbox_reset(env.sandbox, env.connection)
    PayerProfile.objects.filter(user=env.payer).delete()
    customer = payer_customer(user=env.payer, connection=env.connection)
    card = env.client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer}).id
    token = uuid.uuid4()  # the form's attempt token: every resubmission carries it
    env.stripe.plan = list(plan)

    def submit():
        try:
            invoice_pay_card(
                work_item=env.work_item,
                payer=env.payer,
                amount=amount,
                payment_method_id=card,
                attempt=token,
            )
        except (ValidationError, GatewayError, WorkerKilled):
            pass  # the page shows an error (or the process died); the payer may submit again

    def payment():
        attempt = InvoicePayment.objects.filter(uuid=token).first()
        return attempt.payment if attempt else None

    with time_machine.travel(timezone.now(), tick=True) as clock:
        for action in actions:
            if action == "submit":
                submit()
            elif action == "submit_twice":
                submit()
                submit()
            elif action == "webhooks":
                env.stripe.settle()
                deliver_all(env.endpoint, env.client)
            elif action == "travel_25h":
                env.stripe.settle()
                clock.shift(timedelta(hours=25))
                forget_idempotency_keys()
            elif action == "travel_1h":
                clock.shift(timedelta(hours=1))
            env.stripe.settle()
            assert_ledger_honest(payment(), env.client, f"after {action}")

        env.stripe.clear()
        deliver_all(env.endpoint, env.client)
        submit()  # the payer comes back once more (a no-op if the attempt is settled)
        deliver_all(env.endpoint, env.client)

    attempt = InvoicePayment.objects.get(uuid=token)
    succeeded = [pi for pi in intents(env.client) if pi.status == "succeeded"]
    assert len(succeeded) <= 1, f"double charge: {[pi.id for pi in succeeded]}"
    assert len(succeeded) == 1, "the payer's attempt never charged"
    payment = Payment.objects.get(pk=attempt.payment_id)
    assert Payment.objects.count() == 1 and InvoicePayment.objects.count() == 1
    assert payment.status == Payment.Status.SUCCEEDED
    assert payment.stripe_payment_intent_id == succeeded[0].id
    assert (payment.amount, succeeded[0].amount) == (amount, amount)
    assert attempt.status == InvoicePayment.Status.SUCCEEDED
    invoice = Invoice.objects.get(pk=attempt.invoice_id)
    assert invoice.amount_paid == amount
    expected = Invoice.Status.PAID if amount >= invoice.total else Invoice.Status.PARTIALLY_PAID
    assert invoice.status == expected
    assert_row_keys_one_body(env.sandbox, attempt.idempotency_key)


@_settings(PAY_EXAMPLES)
@given(
    amount=st.sampled_from([8000, 20000]),
    plan=faults,
    actions=st.lists(st.sampled_from(PAY_ACTIONS), min_size=1, max_size=6),
)
def test_the_pay_form_moves_money_exactly_once_under_any_fault_schedule(
    pay_env, amount, plan, actions
):
    note(f"amount={amount} faults={plan} actions={actions}")
    pay_env.examples += 1
    try:
        with example_savepoint():
            _pay_schedule(pay_env, amount, plan, actions)
    finally:
        pay_env.stripe.clear()
