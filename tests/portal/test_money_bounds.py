"""Stripe's bounds on a charge, for every currency the portal offers: the currency's minimum,
eight digits, three-decimal amounts ending in 0; refused before Stripe is called."""

from __future__ import annotations

import pytest

from portal.money import (
    CURRENCIES,
    MAXIMUM_AMOUNT,
    THREE_DECIMAL,
    ZERO_DECIMAL,
    check_chargeable,
    exponent,
    format_amount,
    minimum_charge,
    parse_amount,
)


def _largest(code: str) -> int:
    step = 100 if code == "ISK" else 10 if code in THREE_DECIMAL else 1
    return MAXIMUM_AMOUNT - MAXIMUM_AMOUNT % step


def test_the_lists_are_stripes():
    assert {"KRW", "TND", "JPY", "KWD", "ISK", "HUF", "TWD", "UGX", "IDR"} <= set(CURRENCIES)
    assert ZERO_DECIMAL == set(
        "BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split()
    )
    assert THREE_DECIMAL == {"BHD", "JOD", "KWD", "OMR", "TND"}
    assert len(CURRENCIES) == len(set(CURRENCIES)) > 130


@pytest.mark.parametrize("code", CURRENCIES)
def test_each_currency_refuses_below_its_minimum_and_takes_the_minimum(code):
    minimum = minimum_charge(code)

    with pytest.raises(ValueError):
        check_chargeable(minimum - 1, code)
    check_chargeable(minimum, code)
    # Typed as a person types it, the minimum is the same amount.
    typed = format_amount(minimum, code, with_code=False).replace(",", "")
    assert parse_amount(typed, code) == minimum


@pytest.mark.parametrize("code", CURRENCIES)
def test_each_currency_takes_eight_digits_and_no_more(code):
    check_chargeable(_largest(code), code)

    with pytest.raises(ValueError, match="above Stripe's maximum"):
        check_chargeable(MAXIMUM_AMOUNT + 1, code)


@pytest.mark.parametrize("code", sorted(THREE_DECIMAL))
def test_three_decimal_amounts_must_end_in_zero(code):
    with pytest.raises(ValueError, match=f"Stripe requires {code} amounts to end in 0"):
        check_chargeable(parse_amount("5.005", code), code)
    check_chargeable(parse_amount("5.01", code), code)


@pytest.mark.parametrize(
    ("code", "minor", "message"),
    [
        ("USD", 49, "Stripe's minimum charge in USD is $0.50."),
        ("GBP", 29, "Stripe's minimum charge in GBP is £0.30."),
        ("EUR", 49, "Stripe's minimum charge in EUR is €0.50."),
        ("JPY", 49, "Stripe's minimum charge in JPY is ¥50."),
        ("HUF", 17499, "Stripe's minimum charge in HUF is HUF\xa0175.00."),
        ("KRW", 0, "The amount must be greater than zero."),
        ("ISK", 150, "Stripe charges ISK in whole krónur"),
    ],
)
def test_the_words_say_why(code, minor, message):
    with pytest.raises(ValueError) as info:
        check_chargeable(minor, code)
    assert str(info.value).startswith(message)


def test_exponents_follow_stripes_lists():
    assert {exponent(c) for c in ZERO_DECIMAL} == {0}
    assert {exponent(c) for c in THREE_DECIMAL} == {3}
    assert exponent("ISK") == exponent("HUF") == exponent("TWD") == 2
