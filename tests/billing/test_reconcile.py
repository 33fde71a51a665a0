"""The reconciliation job: the ledger repaired from Stripe when webhooks went missing.

"Missing a webhook" here: the portal creates the payment, the customer's confirmation happens
in the sandbox directly, and no event is ever delivered; the ledger row stays pending.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from automation.models import Appointment
from billing.models import Payment, PaymentLink, ReconciliationRun
from billing.reconcile import reconcile_all, reconcile_connection
from billing.services.charges import charge_card_on_file, new_card_payment_start
from billing.services.links import payment_link_checkout, payment_link_create
from billing.tasks import reconcile_daily
from integrations.models import StripeEvent
from integrations.services import connection_create_from_key, webhook_endpoint_for
from tests.billing.conftest import default_card


def _since():
    return timezone.now() - timedelta(days=1)


def _kinds(report) -> list[tuple[str, bool]]:
    return [(d["kind"], d["repaired"]) for d in report.differences]


@pytest.fixture
def paid_link_missed(workspace, contact, bookings, stripe_client, owner):
    """A payment link paid in Stripe whose webhook never came: the ledger says pending."""
    link = payment_link_create(workspace=workspace, contact=contact, amount=7499, currency="usd",
                               description="Cleaning", appointments=bookings)  # fmt: skip
    payment, _secret = payment_link_checkout(link=link)
    stripe_client.v1.payment_intents.confirm(
        payment.stripe_payment_intent_id, params={"payment_method": "pm_card_visa"}
    )
    payment.refresh_from_db()
    assert payment.status == "pending"
    return link, payment


def test_a_missed_webhook_is_repaired_and_its_effects_happen_once(
    connection, paid_link_missed, django_capture_on_commit_callbacks
):
    link, payment = paid_link_missed

    with django_capture_on_commit_callbacks(execute=True):
        report = reconcile_connection(connection=connection, since=_since())
    with django_capture_on_commit_callbacks(execute=True):
        again = reconcile_connection(connection=connection, since=_since())

    payment.refresh_from_db()
    link.refresh_from_db()
    assert payment.status == "succeeded" and payment.succeeded_at is not None
    assert link.status == PaymentLink.Status.PAID
    statuses = {b.payment_status for b in link.appointments.all()}
    assert statuses == {Appointment.PaymentStatus.CHARGED_IN_FULL}
    assert sorted(m.subject for m in mail.outbox) == [
        "Jane Cooper paid $74.99",
        "Your receipt from Acme",
    ]
    assert payment.events.filter(kind="reconciliation").count() == 1
    assert (report.intents_checked, report.payments_updated, report.error) == (1, 1, "")
    assert _kinds(report) == [("status", True)]
    assert report.differences[0]["payment"] == str(payment.uuid)
    assert (again.payments_updated, again.differences) == (0, [])
    run = ReconciliationRun.objects.get(pk=report.run.pk)
    assert run.workspace == connection.workspace and run.finished_at is not None
    assert run.payments_updated == 1 and run.differences == report.differences


def test_missed_events_are_taken_in_when_the_connection_has_an_endpoint(
    connection, paid_link_missed, django_capture_on_commit_callbacks
):
    link, payment = paid_link_missed
    endpoint = webhook_endpoint_for(connection=connection)

    with django_capture_on_commit_callbacks(execute=True):
        report = reconcile_connection(connection=connection, since=_since())

    assert report.events_taken_in > 0
    fetched = StripeEvent.objects.filter(endpoint=endpoint, source="fetch")
    assert "payment_intent.succeeded" in set(fetched.values_list("type", flat=True))
    assert set(fetched.values_list("status", flat=True)) == {StripeEvent.Status.PROCESSED}
    payment.refresh_from_db()
    assert payment.status == "succeeded"
    assert len(mail.outbox) == 2  # the receipt and the owner's note, once, though told twice


def test_an_intent_whose_creating_answer_was_lost_is_matched_by_metadata(
    workspace, connection, contact, stripe_client, staff
):
    payment, _ = new_card_payment_start(workspace=workspace, contact=contact, amount=2500,
                                        currency="usd", description="Whitening", user=staff,
                                        attempt=uuid.uuid4())  # fmt: skip
    intent_id = payment.stripe_payment_intent_id
    Payment.objects.filter(pk=payment.pk).update(stripe_payment_intent_id="")  # answer lost
    stripe_client.v1.payment_intents.confirm(intent_id, params={"payment_method": "pm_card_visa"})

    report = reconcile_connection(connection=connection, since=_since())

    payment.refresh_from_db()
    assert payment.stripe_payment_intent_id == intent_id
    assert payment.status == "succeeded"
    assert _kinds(report) == [("status", True)]
    assert "matched by its metadata" in report.differences[0]["message"]


def test_a_refund_made_in_stripes_dashboard_reaches_the_ledger_and_is_never_lowered(
    workspace, connection, contact, stripe_client, staff
):
    payment = charge_card_on_file(workspace=workspace, contact=contact,
                                  payment_method_id=default_card(stripe_client, contact),
                                  amount=4999, currency="usd", description="Cleaning", user=staff,
                                  attempt=uuid.uuid4())  # fmt: skip
    assert payment.status == "succeeded"
    stripe_client.v1.refunds.create(
        params={"payment_intent": payment.stripe_payment_intent_id, "amount": 1000}
    )

    report = reconcile_connection(connection=connection, since=_since())
    payment.refresh_from_db()
    assert payment.amount_refunded == 1000
    assert report.refunds_recorded == 1 and _kinds(report) == [("refund", True)]
    assert payment.events.filter(kind="reconciliation").get().message == (
        "Refund of $10.00 recorded from Stripe"
    )

    Payment.objects.filter(pk=payment.pk).update(amount_refunded=2000)
    report = reconcile_connection(connection=connection, since=_since())
    payment.refresh_from_db()
    assert payment.amount_refunded == 2000
    assert _kinds(report) == [("refund_mismatch", False)]


def test_an_intent_the_ledger_does_not_know_is_reported_not_invented(connection, stripe_client):
    intent = stripe_client.v1.payment_intents.create(
        params={"amount": 1200, "currency": "usd", "payment_method_types": ["card"]}
    )
    stripe_client.v1.payment_intents.confirm(intent.id, params={"payment_method": "pm_card_visa"})

    report = reconcile_connection(connection=connection, since=_since())

    assert not Payment.objects.exists()
    assert _kinds(report) == [("unknown_intent", False)]
    difference = report.differences[0]
    assert (difference["payment_intent"], difference["amount"]) == (intent.id, 1200)
    assert difference["payment"] == ""


def test_old_pending_rows_whose_intent_stripe_does_not_know_are_reported(workspace, connection):
    def row(key, intent_id="", age=timedelta(hours=2)):
        payment = Payment.objects.create(
            workspace=workspace,
            connection=connection,
            source="new_card",
            idempotency_key=key,
            amount=3000,
            currency="usd",
            stripe_payment_intent_id=intent_id,
        )
        Payment.objects.filter(pk=payment.pk).update(created_at=timezone.now() - age)
        return payment

    lost = row("lost", intent_id="pi_neverMadeInStripe")
    never_sent = row("never-sent")
    row("too-young", age=timedelta(minutes=5))
    row("before-the-window", age=timedelta(days=5))

    report = reconcile_connection(connection=connection, since=_since())

    assert report.error == ""
    assert [(d["kind"], d["payment"]) for d in report.differences] == [
        ("intent_missing", str(lost.uuid)),
        ("intent_missing", str(never_sent.uuid)),
    ]
    assert set(Payment.objects.values_list("status", flat=True)) == {"pending"}


def test_one_connections_error_is_reported_and_the_others_are_reconciled(
    sandbox, connection, other_workspace, paid_link_missed
):
    _link, payment = paid_link_missed
    secret, publishable, _ = sandbox.new_account(name="Globex")
    other = connection_create_from_key(
        workspace=other_workspace, secret_key=secret, publishable_key=publishable
    )
    sandbox.control.revoke_key(secret)

    reports = reconcile_all(days=2)

    by_connection = {report.connection.pk: report for report in reports}
    assert by_connection[other.pk].error.startswith("AUTH_EXPIRED")
    assert by_connection[connection.pk].error == ""
    payment.refresh_from_db()
    assert payment.status == "succeeded"
    failed = ReconciliationRun.objects.get(connection=other)
    assert failed.error.startswith("AUTH_EXPIRED") and failed.finished_at is not None
    assert secret not in failed.error


def test_unhealthy_connections_are_skipped(connection):
    connection.health = "auth_failed"
    connection.save()
    assert reconcile_all() == []


# --- the command and the schedule --------------------------------------------------------


def test_the_command_prints_a_summary_per_connection(connection, paid_link_missed, stripe_client):
    stripe_client.v1.payment_intents.create(
        params={"amount": 1200, "currency": "usd", "payment_method_types": ["card"]}
    )
    out = StringIO()

    call_command("reconcile", "--days", "2", stdout=out)

    text = out.getvalue()
    assert "acme / Acme Dental (Test): 0 missed events taken in, 2 PaymentIntents checked" in text
    assert "1 payments updated, 0 refunds recorded, 1 differences to look at" in text
    assert "  - unknown_intent: A PaymentIntent in Stripe" in text
    assert ReconciliationRun.objects.get().origin == "command"


def test_the_command_exits_1_when_a_connection_failed(sandbox, connection):
    sandbox.control.inject_fault(method="GET", path="/v1/payment_intents", kind="500")
    out = StringIO()

    with pytest.raises(CommandError) as raised:
        call_command("reconcile", stdout=out)

    # run_from_argv (manage.py) prints the message and exits with this code
    assert raised.value.returncode == 1
    assert str(raised.value) == "1 of 1 connections could not be reconciled."
    assert "acme / Acme Dental (Test): failed: PROVIDER_ERROR" in out.getvalue()
    assert ReconciliationRun.objects.get().error.startswith("PROVIDER_ERROR")


def test_the_command_refuses_a_days_below_one(db):
    with pytest.raises(CommandError, match="at least 1"):
        call_command("reconcile", "--days", "0")


def test_the_daily_task_reconciles_every_connection(connection, paid_link_missed):
    assert reconcile_daily() == "1 connections reconciled, 0 failed"
    assert Payment.objects.get(pk=paid_link_missed[1].pk).status == "succeeded"
    assert ReconciliationRun.objects.get().origin == "schedule"


def test_migrate_creates_the_daily_schedule_once(db):
    Schedule.objects.filter(func="billing.tasks.reconcile_daily").delete()

    call_command("migrate", verbosity=0)
    call_command("migrate", verbosity=0)

    schedule = Schedule.objects.get(func="billing.tasks.reconcile_daily")
    assert schedule.schedule_type == Schedule.DAILY and schedule.repeats == -1


# --- the page (403 and 404 are in tests/test_access.py) ----------------------------------


def test_the_page_lists_runs_and_their_differences(connection, paid_link_missed, owner, as_user):
    reconcile_connection(connection=connection, since=_since())
    ReconciliationRun.objects.create(workspace=connection.workspace, connection=connection,
                                     since=_since(), error="AUTH_EXPIRED: The key was revoked.",
                                     finished_at=timezone.now())  # fmt: skip

    response = as_user(owner).get(reverse("reconciliation_list", args=["acme"]))

    assert response.status_code == 200
    payment = paid_link_missed[1]
    assert reverse("payment_detail", args=["acme", payment.uuid]) in response.text
    assert "Repaired" in response.text and "The ledger said Pending" in response.text
    assert "AUTH_EXPIRED: The key was revoked." in response.text
    assert connection.secret_key not in response.text


def test_the_page_shows_an_empty_state(workspace, owner, as_user):
    response = as_user(owner).get(reverse("reconciliation_list", args=["acme"]))
    assert "has not been reconciled yet" in response.text


def test_run_now_reconciles_the_workspace_and_comes_back(
    connection, paid_link_missed, owner, as_user
):
    client = as_user(owner)

    response = client.post(reverse("reconciliation_run", args=["acme"]), follow=True)

    assert response.redirect_chain == [(reverse("reconciliation_list", args=["acme"]), 302)]
    assert "1 payments updated" in response.text
    run = ReconciliationRun.objects.get()
    assert run.origin == owner.get_username() and run.payments_updated == 1
    paid_link_missed[1].refresh_from_db()
    assert paid_link_missed[1].status == "succeeded"


def test_run_now_without_a_connection_says_so(workspace, owner, as_user):
    response = as_user(owner).post(reverse("reconciliation_run", args=["acme"]), follow=True)
    assert "Connect a working Stripe account first." in response.text
    assert not ReconciliationRun.objects.exists()
