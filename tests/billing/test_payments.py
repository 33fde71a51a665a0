"""The payments page (filters, pagination, the SVG chart), one payment, refunds; settings."""

from __future__ import annotations

import uuid
from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.models import Payment
from tests.billing.conftest import card_on_file, default_card
from tests.factories import ContactFactory

LIST = reverse("payment_list", args=["acme"])


def _row(workspace, contact, status, amount=1000, source="card_on_file", currency="usd"):
    return Payment.objects.create(workspace=workspace, contact=contact, source=source,
                                  idempotency_key=f"test:{uuid.uuid4()}", amount=amount,
                                  currency=currency, status=status)  # fmt: skip


@pytest.fixture
def ledger(workspace):
    jane = ContactFactory(workspace=workspace, name="Jane Cooper", email="jane@example.com")
    bob = ContactFactory(workspace=workspace, name="Bob Stone", email="bob@example.com")
    return [
        _row(workspace, jane, "succeeded", 4999),
        _row(workspace, jane, "failed", 2000),
        _row(workspace, bob, "succeeded", 1500, source="payment_link"),
        _row(workspace, bob, "succeeded", 700, currency="eur"),
    ]


def test_the_list_filters_by_status_source_contact_and_date(staff_client, ledger):
    failed = staff_client.get(LIST, {"status": "failed"})
    assert failed.context["page"].paginator.count == 1
    links = staff_client.get(LIST, {"source": "payment_link"})
    assert [p.amount for p in links.context["page"]] == [1500]
    bob = staff_client.get(LIST, {"q": "bob"})
    assert bob.context["page"].paginator.count == 2 and "Bob Stone" in bob.text
    future = staff_client.get(LIST, {"since": "2999-01-01"})
    assert "No payments match these filters" in future.text
    bad = staff_client.get(LIST, {"since": "yesterday"})
    assert bad.status_code == 200 and "Enter a valid date" in bad.text


def test_the_list_paginates_keeping_the_filters(staff_client, workspace, settings):
    settings.PORTAL_PAGE_SIZE = 2
    contact = ContactFactory(workspace=workspace, name="Ann")
    for _ in range(5):
        _row(workspace, contact, "succeeded")
    page = staff_client.get(LIST, {"status": "succeeded", "page": 2})
    assert "Page 2 of 3" in page.text
    assert "?status=succeeded&amp;page=3" in page.text


def test_the_chart_is_inline_svg_of_collected_and_failed_in_the_chosen_currency(
    staff_client, ledger
):
    page = staff_client.get(LIST)
    assert "<svg" in page.text and "<script" not in page.text.split("<svg")[1].split("</svg>")[0]
    chart = page.context["chart"]
    assert chart.currency == "USD"
    # The workspace was paid in USD and EUR: the chart's totals name the ISO code.
    assert chart.total_collected == "USD\xa064.99" and chart.total_failed == "USD\xa020.00"
    assert len(chart.bars) == 30 and chart.bars[-1].collected == 6499
    assert "Collected USD\xa064.99" in page.text
    eur = staff_client.get(LIST, {"currency": "EUR"}).context["chart"]
    assert eur.total_collected == "EUR\xa07.00" and eur.total_failed == "EUR\xa00.00"


def test_a_workspace_paid_in_one_currency_charts_it_with_its_symbol(staff_client, workspace):
    contact = ContactFactory(workspace=workspace)
    _row(workspace, contact, "succeeded", 4999)
    _row(workspace, contact, "failed", 2000)
    page = staff_client.get(LIST)
    chart = page.context["chart"]
    assert chart.total_collected == "$49.99" and chart.total_failed == "$20.00"
    assert "Collected $49.99" in page.text and "USD\xa049.99" not in page.text


def test_the_chart_shows_a_payment_saved_after_the_page_was_last_drawn(staff_client, ledger):
    assert staff_client.get(LIST).context["chart"].total_collected == "USD\xa064.99"
    failed = Payment.objects.get(status="failed")
    failed.status = "succeeded"  # a retried charge that went through
    failed.save()
    assert staff_client.get(LIST).context["chart"].total_collected == "USD\xa084.99"
    _row(failed.workspace, failed.contact, "succeeded", 1)
    chart = staff_client.get(LIST).context["chart"]
    assert chart.total_collected == "USD\xa085.00" and chart.total_failed == "USD\xa00.00"


def test_the_chart_puts_each_payment_on_its_day_in_the_viewers_zone(
    staff_client, workspace, settings
):
    contact = ContactFactory(workspace=workspace)
    now = timezone.now().astimezone(ZoneInfo("America/New_York"))
    # 23:30 yesterday in New York is already today in UTC.
    late = now.replace(hour=23, minute=30, second=0, microsecond=0) - timedelta(days=1)
    row = _row(workspace, contact, "succeeded", 500)
    Payment.objects.filter(pk=row.pk).update(created_at=late, updated_at=timezone.now())
    staff_client.cookies["tz"] = "America/New_York"
    bars = staff_client.get(LIST).context["chart"].bars
    assert (bars[-2].day, bars[-2].collected) == (late.date(), 500) and bars[-1].collected == 0
    staff_client.cookies["tz"] = "UTC"
    bars = staff_client.get(LIST).context["chart"].bars
    by_day = {bar.day: bar.collected for bar in bars}
    assert by_day[late.astimezone(UTC).date()] == 500 and by_day[late.date()] == 0


def test_the_chart_currency_menu_offers_the_currencies_paid_in(staff_client, ledger):
    menu = staff_client.get(LIST).context["filters"]["currency"]
    assert [value for value, _ in menu.field.widget.choices] == ["", "EUR", "USD"]
    chosen = staff_client.get(LIST, {"currency": "JPY"})
    assert chosen.context["chart"].currency == "JPY"  # any currency a link names still charts
    assert '<option value="JPY" selected>JPY</option>' in chosen.text


def test_the_list_keeps_a_constant_number_of_queries(
    staff_client, workspace, django_assert_max_num_queries
):
    contact = ContactFactory(workspace=workspace)
    for _ in range(20):
        _row(workspace, contact, "succeeded")
    with django_assert_max_num_queries(12):
        staff_client.get(LIST)


@pytest.fixture
def paid(staff_client, contact, stripe_client):
    card_on_file(staff_client, contact, default_card(stripe_client, contact), amount="50.00")
    return Payment.objects.get()


def _refund(client, payment, amount, *, reason="requested_by_customer", confirmed="on", **extra):
    url = reverse("payment_refund", args=["acme", payment.uuid])
    data = {"attempt": str(uuid.uuid4()), "amount": amount, "reason": reason,
            "confirmed": confirmed, **extra}  # fmt: skip
    return client.post(url, data)


def test_the_payment_page_shows_ids_timeline_and_a_refund_form(staff_client, paid):
    page = staff_client.get(paid.get_absolute_url())
    assert paid.stripe_payment_intent_id in page.text and paid.stripe_charge_id in page.text
    assert "Card on file started by staff@acme.test" in page.text
    assert 'name="amount" value="50.00"' in page.text  # what is left, by default


def test_refund_asks_first(staff_client, paid, stripe_client):
    response = _refund(staff_client, paid, "20.00", confirmed="")
    assert "Refund $20.00 to the customer?" in response.text
    assert not stripe_client.v1.refunds.list().data


def test_refund_part_then_the_rest_then_a_third_is_refused(staff_client, paid, stripe_client):
    first = _refund(staff_client, paid, "30.00")
    too_much = _refund(staff_client, paid, "20.01")
    rest = _refund(staff_client, paid, "20.00")
    third = _refund(staff_client, paid, "1.00")

    assert first.status_code == 302 and rest.status_code == 302
    assert "At most $20.00 can be refunded." in too_much.text
    assert "This payment has been refunded in full already." in third.text
    paid.refresh_from_db()
    assert paid.amount_refunded == 5000
    assert len(stripe_client.v1.refunds.list().data) == 2
    page = staff_client.get(paid.get_absolute_url())
    assert page.text.count("Refund of") == 2 and "refunded in full" in page.text


def test_an_other_reason_needs_words(staff_client, paid):
    response = _refund(staff_client, paid, "5.00", reason="other")
    assert "Say why, in a few words." in response.text
    assert paid.refunds.count() == 0


def test_the_settings_page_turns_owner_emails_off(owner, as_user, workspace):
    client = as_user(owner)
    url = reverse("workspace_settings", args=["acme"])
    assert "E-mail the owners when a customer pays" in client.get(url).text
    assert client.post(url, {}).status_code == 302
    workspace.refresh_from_db()
    assert workspace.notify_admins_of_payments is False
    client.post(url, {"notify_admins_of_payments": "on"})
    workspace.refresh_from_db()
    assert workspace.notify_admins_of_payments is True


def test_the_settings_page_sets_the_workspaces_zone_and_refuses_an_unknown_one(
    owner, as_user, workspace
):
    client = as_user(owner)
    url = reverse("workspace_settings", args=["acme"])
    assert 'value="America/New_York"' in client.get(url).text

    refused = client.post(url, {"time_zone": "Mars/Olympus_Mons"})
    workspace.refresh_from_db()
    assert refused.status_code == 200 and workspace.time_zone == ""
    assert "Select a valid choice." in refused.text

    assert client.post(url, {"time_zone": "America/New_York"}).status_code == 302
    workspace.refresh_from_db()
    assert workspace.time_zone == "America/New_York"
