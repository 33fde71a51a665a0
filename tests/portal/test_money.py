"""Money: typed amounts to minor units and back, and Stripe's bounds, per currency exponent."""

from __future__ import annotations

import re

import pytest
from django.template import Context, Template

from portal.money import check_chargeable, format_amount, parse_amount


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("49.99", "USD", 4999),
        ("49.9", "USD", 4990),
        ("49", "USD", 4900),
        (" 0.50 ", "usd", 50),
        ("1,234.56", "USD", 123456),
        ("1,000,000", "EUR", 100000000),
        ("500", "JPY", 500),
        ("1,500", "JPY", 1500),
        ("1.250", "KWD", 1250),
        ("1.25", "KWD", 1250),
        ("7", "KWD", 7000),
    ],
)
def test_it_parses_major_units_into_minor_units(text, currency, minor):
    assert parse_amount(text, currency) == minor


@pytest.mark.parametrize(
    ("text", "currency", "message"),
    [
        ("5.5", "JPY", "JPY has no decimals"),
        ("1.999", "USD", "USD has at most 2 decimals"),
        ("1.2345", "KWD", "KWD has at most 3 decimals"),
    ],
)
def test_it_refuses_more_decimals_than_the_currency_has(text, currency, message):
    with pytest.raises(ValueError, match=message):
        parse_amount(text, currency)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "abc",
        "12abc",
        "-5",
        "+5",
        "1e3",
        "1.2.3",
        ".5",
        "5.",
        "NaN",
        "Infinity",
        "$49.99",
        "$49.99",
        "49,99",  # a decimal comma would be read as 4,999.00
        "1,23,456.00",
        ",100",
    ],
)
def test_it_refuses_what_is_not_an_amount(text):
    with pytest.raises(ValueError, match="Enter an amount such as 49.99"):
        parse_amount(text, "USD")


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [
        (4999, "USD", "$49.99"),
        (5, "usd", "$0.05"),
        (0, "USD", "$0.00"),
        (123456789, "USD", "$1,234,567.89"),
        (500, "JPY", "¥500"),
        (1500000, "JPY", "¥1,500,000"),
        (1250, "KWD", "KWD\xa01.250"),
        (-4999, "USD", "-$49.99"),
    ],
)
def test_it_formats_minor_units(minor, currency, text):
    assert format_amount(minor, currency) == text


def test_it_formats_without_the_code_when_asked():
    assert format_amount(4999, "USD", with_code=False) == "49.99"


@pytest.mark.parametrize(
    ("text", "currency"), [("49.99", "USD"), ("500", "JPY"), ("1.250", "KWD"), ("0.01", "EUR")]
)
def test_formatting_what_was_parsed_gives_the_amount_back(text, currency):
    formatted = format_amount(parse_amount(text, currency), currency, with_code=False)
    assert parse_amount(formatted, currency) == parse_amount(text, currency)


@pytest.mark.parametrize(
    ("minor", "currency"),
    [(50, "USD"), (99_999_999, "USD"), (50, "JPY"), (1250, "KWD"), (1, "XAF"), (100, "EUR")],
)
def test_amounts_within_stripes_bounds_are_chargeable(minor, currency):
    check_chargeable(minor, currency)


@pytest.mark.parametrize(
    ("minor", "currency", "message"),
    [
        (0, "USD", "greater than zero"),
        (-100, "USD", "greater than zero"),
        (100_000_000, "USD", "above Stripe's maximum of $999,999.99"),
        (100_000_000, "JPY", "above Stripe's maximum of ¥99,999,999"),
        (49, "USD", "minimum charge in USD is $0.50"),
        (49, "jpy", "minimum charge in JPY is ¥50"),
        (1255, "KWD", "KWD amounts to end in 0"),
    ],
)
def test_it_refuses_amounts_stripe_would_refuse(minor, currency, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        check_chargeable(minor, currency)


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (4999, "USD", "$49.99"),
        (500, "jpy", "¥500"),
        (1250, "KWD", "KWD\xa01.250"),
        (None, "USD", ""),
        (4999, "", ""),
    ],
)
def test_the_money_filter_formats_in_templates(amount, currency, text):
    template = Template("[{{ amount|money:currency }}]")

    assert template.render(Context({"amount": amount, "currency": currency})) == f"[{text}]"
