"""Amounts as people read them: the workspace's locale (Babel), Stripe's decimals, the ISO
code where currencies mix, and statuses in words."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from billing.models import Payment, PaymentLink
from billing.services.links import payment_link_email
from portal.labels import status_label
from portal.money import format_amount, format_totals, locale_override, parse_amount
from tests.factories import ContactFactory

NB = "\xa0"  # CLDR keeps a sign and its number together with a no-break space
NNB = "\u202f"  # the narrow one fr_FR groups thousands with


@pytest.mark.parametrize(
    ("minor", "currency", "en_us", "de_de", "ja_jp"),
    [
        (4999, "usd", "$49.99", f"49,99{NB}$", "$49.99"),
        (123456, "EUR", "€1,234.56", f"1.234,56{NB}€", "€1,234.56"),
        (500, "JPY", "¥500", f"500{NB}¥", "￥500"),
        (1500000, "JPY", "¥1,500,000", f"1.500.000{NB}¥", "￥1,500,000"),
        (1250, "KWD", f"KWD{NB}1.250", f"1,250{NB}KWD", f"KWD{NB}1.250"),
        (5, "BHD", f"BHD{NB}0.005", f"0,005{NB}BHD", f"BHD{NB}0.005"),
        # Stripe keeps HUF two-decimal (only payouts are whole forints), whatever CLDR says.
        (175050, "HUF", f"HUF{NB}1,750.50", f"1.750,50{NB}HUF", f"HUF{NB}1,750.50"),
    ],
)
def test_amounts_read_in_the_locale_with_stripes_decimals(minor, currency, en_us, de_de, ja_jp):
    assert format_amount(minor, currency, locale="en_US") == en_us
    assert format_amount(minor, currency, locale="de_DE") == de_de
    assert format_amount(minor, currency, locale="ja_JP") == ja_jp


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [
        (0, "USD", "$0.00"),
        (0, "JPY", "¥0"),
        (-4999, "USD", "-$49.99"),
        (-1250, "KWD", f"-KWD{NB}1.250"),
        # UGX is zero-decimal for Stripe; ISK two-decimal but charged in whole krónur.
        (5000, "UGX", f"UGX{NB}5,000"),
        (500000, "ISK", f"ISK{NB}5,000"),
        (500050, "ISK", f"ISK{NB}5,000.50"),
        (123456, "TWD", "NT$1,234.56"),
    ],
)
def test_zero_negative_and_stripes_special_cases(minor, currency, text):
    assert format_amount(minor, currency, locale="en_US") == text


def test_other_locales_place_the_sign_and_separators_their_way():
    assert format_amount(123456, "EUR", locale="fr_FR") == f"1{NNB}234,56{NB}€"
    assert format_amount(4999, "EUR", locale="nl_NL") == f"€{NB}49,99"
    assert format_amount(4999, "GBP", locale="en_GB") == "£49.99"
    assert format_amount(4999, "USD", locale="en_CA") == "US$49.99"
    assert format_amount(4999, "CAD", locale="en_CA") == "$49.99"


def test_where_currencies_mix_the_iso_code_replaces_the_symbol():
    assert format_amount(4999, "USD", iso=True, locale="en_US") == f"USD{NB}49.99"
    assert format_amount(4999, "CAD", iso=True, locale="en_US") == f"CAD{NB}49.99"
    assert format_amount(4999, "USD", iso=True, locale="de_DE") == f"49,99{NB}USD"
    assert format_amount(500, "JPY", iso=True, locale="ja_JP") == f"JPY{NB}500"


def test_totals_over_several_currencies_name_each_code_and_one_currency_its_symbol():
    assert format_totals({"USD": 1200}) == "$12.00"
    assert format_totals({"USD": 1200, "EUR": 300}) == f"EUR{NB}3.00 + USD{NB}12.00"


def test_the_number_for_a_form_field_is_what_parse_amount_reads_back_in_any_locale():
    with locale_override("de_DE"):
        text = format_amount(123456, "EUR", with_code=False)
    assert text == "1,234.56"
    assert parse_amount(text, "EUR") == 123456


def test_an_unknown_locale_falls_back_to_en_us():
    with locale_override("xx_YY"):
        assert format_amount(4999, "USD") == "$49.99"


def _render(source: str, **context) -> str:
    return Template(source).render(Context(context))


def test_the_money_filter_follows_the_active_locale():
    source = "[{{ amount|money:currency }}]"
    assert _render(source, amount=4999, currency="usd") == "[$49.99]"
    with locale_override("de_DE"):
        assert _render(source, amount=4999, currency="eur") == f"[49,99{NB}€]"
    assert _render(source, amount=None, currency="usd") == "[]"
    assert _render(source, amount=4999, currency="") == "[]"


def test_amounts_among_rows_of_several_currencies_show_the_iso_code():
    source = (
        "{% amounts_among rows %}{% for r in rows %}{{ r.amount|money:r.currency }};"
        "{% endfor %}{% endamounts_among %}|{{ rows.0.amount|money:rows.0.currency }}"
    )
    mixed = [Payment(amount=4999, currency="usd"), Payment(amount=700, currency="eur")]
    same = [Payment(amount=4999, currency="usd"), Payment(amount=700, currency="USD")]

    assert _render(source, rows=mixed) == f"USD{NB}49.99;EUR{NB}7.00;|$49.99"
    assert _render(source, rows=same) == "$49.99;$7.00;|$49.99"


def test_statuses_read_as_words():
    assert status_label("verification_failed") == "Verification failed"
    assert status_label("requires_payment_method") == "Needs a payment method"
    assert status_label("errored") == "Payouts failed"
    assert status_label("past_due") == "Past due"
    assert status_label("") == ""
    assert _render("{{ s|status_label }}", s="verification_failed") == "Verification failed"


# --- the workspace's locale on its pages and in its e-mails --------------------------------


def _payment(workspace, amount, currency):
    contact = ContactFactory(workspace=workspace, name="Jane Cooper")
    return Payment.objects.create(
        workspace=workspace, contact=contact, source="card_on_file", amount=amount,
        currency=currency, status="succeeded", idempotency_key=f"test:{uuid.uuid4()}",
    )  # fmt: skip


def test_the_owner_chooses_the_locale_and_the_payments_page_follows(owner, as_user, workspace):
    client = as_user(owner)
    _payment(workspace, 4999, "usd")
    settings_url = reverse("workspace_settings", args=["acme"])
    assert 'value="de_DE"' in client.get(settings_url).text
    assert "$49.99" in client.get(reverse("payment_list", args=["acme"])).text

    assert client.post(settings_url, {"locale": "de_DE"}).status_code == 302
    workspace.refresh_from_db()
    assert workspace.locale == "de_DE"
    page = client.get(reverse("payment_list", args=["acme"])).text
    assert f"49,99{NB}$" in page and "$49.99" not in page


def test_an_unknown_locale_is_refused_next_to_the_field(owner, as_user, workspace):
    response = as_user(owner).post(
        reverse("workspace_settings", args=["acme"]), {"locale": "xx_YY"}
    )
    workspace.refresh_from_db()
    assert response.status_code == 200 and workspace.locale == "en_US"
    assert "Select a valid choice." in response.text


def test_the_payments_list_shows_iso_codes_when_its_currencies_mix(owner, as_user, workspace):
    _payment(workspace, 4999, "usd")
    _payment(workspace, 700, "eur")
    page = as_user(owner).get(reverse("payment_list", args=["acme"])).text
    assert f"USD{NB}49.99" in page and f"EUR{NB}7.00" in page


def _link(workspace, amount, currency):
    contact = ContactFactory(workspace=workspace, name="Jane Cooper", email="jane@example.com")
    return PaymentLink.objects.create(
        workspace=workspace, contact=contact, amount=amount, currency=currency,
        description="Two visits", expires_at=timezone.now() + dt.timedelta(days=7),
    )  # fmt: skip


def test_the_link_email_and_pay_page_read_in_the_workspaces_locale(workspace, client):
    workspace.locale = "de_DE"
    workspace.save()
    link = _link(workspace, 123450, "eur")

    with locale_override("en_US"):  # whoever sends it (a worker: the default locale)
        email = payment_link_email(link)
    assert "1.234,50 €" in email.subject  # a subject is one line of plain spaces
    assert f"1.234,50{NB}€" in email.text and f"1.234,50{NB}€" in email.html
    assert "1,234.50" not in email.text + email.html
    assert format_amount(4999, "usd") == "$49.99"  # the e-mail's locale ended with it

    page = client.get(link.get_absolute_url()).text
    assert f"1.234,50{NB}€" in page


def test_a_workspace_in_japanese_yen_reads_yen_in_its_email(workspace):
    workspace.locale = "ja_JP"
    link = _link(workspace, 500, "jpy")
    email = payment_link_email(link)
    assert "￥500" in email.text and "500 JPY" not in email.text
