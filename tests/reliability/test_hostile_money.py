"""The money parser under hostile input: every amount it formats parses back exactly, in every
currency (zero-, two- and three-decimal); anything else is a readable ValueError, never
another exception, a rounded value or a number too large for the database."""

from __future__ import annotations

from decimal import Decimal, localcontext

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from billing.forms import ChargeForm
from portal.money import CURRENCIES, LARGEST_AMOUNT, exponent, format_amount, parse_amount

HOSTILE = settings(max_examples=200, deadline=None)
currencies = st.sampled_from(CURRENCIES)
# Amount-like text: digits (also other scripts' digits), separators, signs, exponents, spaces.
amount_like = st.text(alphabet=st.sampled_from("0123456789٣,.-+eE _\u00a0$€"), max_size=40)


@HOSTILE
@given(minor=st.integers(min_value=0, max_value=LARGEST_AMOUNT), currency=currencies)
@example(minor=LARGEST_AMOUNT, currency="KWD")
@example(minor=1, currency="JPY")
def test_every_formatted_amount_parses_back_to_the_same_minor_units(minor, currency):
    formatted = format_amount(minor, currency, with_code=False)  # "1,234.56", "500", "1.250"
    assert parse_amount(formatted, currency) == minor
    plain = formatted.replace(",", "")
    assert parse_amount(f"  {plain} ", currency.lower()) == minor


def _outcome(text: str, currency: str):
    try:
        return parse_amount(text, currency)
    except ValueError as error:
        assert str(error).strip(), "a refusal says why"
        return error


@HOSTILE
@given(text=st.one_of(st.text(), amount_like), currency=currencies)
@example(text="0" * 5000 + "1", currency="USD")
@example(text="9" * 5000, currency="USD")
@example(text="1" * 40, currency="USD")
@example(text="١٢٣", currency="USD")
def test_any_text_is_a_minor_amount_or_a_readable_refusal(text, currency):
    outcome = _outcome(text, currency)
    if isinstance(outcome, int):
        assert 0 <= outcome <= LARGEST_AMOUNT
        with localcontext(prec=10_000):  # exact, never rounded: the digits typed are kept
            typed = Decimal(text.strip().replace(",", "")).scaleb(exponent(currency))
        assert outcome == typed


@HOSTILE
@given(digits=st.integers(min_value=16, max_value=400), currency=currencies)
def test_amounts_too_large_for_any_column_are_refused(digits, currency):
    with pytest.raises(ValueError, match="Enter at most"):
        parse_amount("9" * digits, currency)


@HOSTILE
@given(
    currency=st.text(max_size=8).filter(lambda c: c.upper() not in CURRENCIES),
    text=st.sampled_from(["49.99", "500", "1.250", "0"]),
)
@example(currency="XYZ", text="49.99")
@example(currency="", text="1")
def test_an_unknown_currency_is_refused_with_a_message(currency, text):
    with pytest.raises(ValueError, match="is not a currency the portal knows"):
        parse_amount(text, currency)


@HOSTILE
@given(amount=st.one_of(st.text(max_size=30), amount_like), currency=st.text(max_size=5))
def test_a_money_form_turns_anything_into_minor_units_or_a_message_next_to_the_field(
    amount, currency
):
    form = ChargeForm({"attempt": "6f1c0e8e-4b7a-4b0e-9b43-8e2f3f5f9a10", "amount": amount,
                       "currency": currency})  # fmt: skip
    if form.is_valid():
        assert form.cleaned_data["minor"] == parse_amount(amount, currency)
        assert currency in CURRENCIES
    else:
        assert set(form.errors) <= {"amount", "currency"} and form.errors
        for messages in form.errors.values():
            assert all(isinstance(m, str) and m for m in messages)
