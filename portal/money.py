"""Money is an integer of minor units plus an ISO currency code. Convert only at the edges.

`parse_amount` turns what a person typed ("49.99" USD, "500" JPY, "1.250" KWD) into minor
units; `format_amount` turns minor units back into text. Never floats.
"""

from __future__ import annotations

import re
from decimal import Decimal

ZERO_DECIMAL = frozenset("BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split())
THREE_DECIMAL = frozenset("BHD JOD KWD OMR TND".split())

# Stripe's currencies offered in dropdowns (a selection of the most used, all exponents covered).
CURRENCIES = sorted(
    """USD EUR GBP CAD AUD NZD CHF SEK NOK DKK PLN CZK HUF RON BGN ISK TRY ILS AED SAR QAR
    INR SGD HKD MYR THB IDR PHP CNY TWD ZAR NGN KES EGP MAD BRL MXN ARS COP PEN UYU""".split()
    + list(ZERO_DECIMAL)
    + list(THREE_DECIMAL)
)

# Stripe's minimum charge per currency, in minor units (others: no minimum known here).
MINIMUM_CHARGE = {
    "USD": 50, "EUR": 50, "GBP": 30, "CAD": 50, "AUD": 50, "NZD": 50, "CHF": 50, "SGD": 50,
    "BRL": 50, "INR": 50, "DKK": 250, "NOK": 300, "SEK": 300, "PLN": 200, "CZK": 1500,
    "HUF": 17500, "RON": 200, "BGN": 100, "AED": 200, "HKD": 400, "MYR": 200, "MXN": 1000,
    "THB": 1000, "JPY": 50,
}  # fmt: skip
MAXIMUM_AMOUNT = 99_999_999  # eight digits in the smallest unit
# The most any typed amount can be (limits and invoice lines too): far below a 64-bit column.
LARGEST_AMOUNT = 10**15 - 1
KNOWN_CURRENCIES = frozenset(CURRENCIES)


def exponent(currency: str) -> int:
    """How many decimals the currency's minor unit has (0, 2 or 3)."""
    code = currency.upper()
    if code in ZERO_DECIMAL:
        return 0
    if code in THREE_DECIMAL:
        return 3
    return 2


# Commas only as thousands separators: "49,99" (a decimal comma) must not become 4,999.00.
_AMOUNT_RE = re.compile(r"^(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")


def parse_amount(text: str, currency: str) -> int:
    """Minor units from a major-unit string; ValueError with a message a person can read.

    Exact for any length (integer arithmetic, no Decimal rounding); amounts above
    LARGEST_AMOUNT and currencies outside CURRENCIES are refused.
    """
    code = str(currency).upper()
    if code not in KNOWN_CURRENCIES:
        raise ValueError(
            f"“{currency}” is not a currency the portal knows: pick one from the list."
        )
    cleaned = str(text).strip()
    if not _AMOUNT_RE.match(cleaned):
        raise ValueError("Enter an amount such as 49.99, using digits and one decimal point.")
    whole, _, decimals = cleaned.replace(",", "").partition(".")
    places = exponent(code)
    if len(decimals) > places:
        if places == 0:
            raise ValueError(f"{code} has no decimals: enter a whole amount.")
        raise ValueError(f"{code} has at most {places} decimals.")
    whole = whole.lstrip("0") or "0"
    if len(whole) > len(str(LARGEST_AMOUNT)):  # before int(): no huge conversions
        raise ValueError(f"Enter at most {format_amount(LARGEST_AMOUNT, code)}.")
    minor = int(whole) * 10**places + int(decimals.ljust(places, "0") or "0")
    if minor > LARGEST_AMOUNT:
        raise ValueError(f"Enter at most {format_amount(LARGEST_AMOUNT, code)}.")
    return minor


def check_chargeable(minor: int, currency: str) -> None:
    """Stripe's bounds for one charge, checked before Stripe is called."""
    code = currency.upper()
    if minor <= 0:
        raise ValueError("The amount must be greater than zero.")
    if minor > MAXIMUM_AMOUNT:
        raise ValueError(
            f"The amount is above Stripe's maximum of {format_amount(MAXIMUM_AMOUNT, code)}."
        )
    minimum = MINIMUM_CHARGE.get(code)
    if minimum and minor < minimum:
        raise ValueError(f"Stripe's minimum charge in {code} is {format_amount(minimum, code)}.")
    if code in THREE_DECIMAL and minor % 10:
        raise ValueError(f"Stripe requires {code} amounts to end in 0 (e.g. 1.250).")


def format_amount(minor: int, currency: str, *, with_code: bool = True) -> str:
    """'49.99 USD', '500 JPY', '1.250 KWD', with thousands separators."""
    places = exponent(currency)
    value = Decimal(int(minor)).scaleb(-places)
    text = f"{value:,.{places}f}"
    return f"{text} {currency.upper()}" if with_code else text
