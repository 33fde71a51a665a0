"""Money is an integer of minor units plus an ISO currency code. Convert only at the edges.

`parse_amount` turns what a person typed ("49.99" USD, "500" JPY, "1.250" KWD) into minor
units; `format_amount` turns minor units back into text as people read it in the active
locale (Babel's CLDR data: "$49.99", "¥500", "KWD 1.250"; "49,99 €" in de_DE). Never floats.

The rule for the currency's sign: the locale's symbol where one currency is in view (a
payment, a pay page, an e-mail), the ISO code where currencies mix (a list holding several, a
total over several currencies: `iso=True`, "USD 49.99", "49,99 USD"), since "$" alone cannot
tell USD from CAD or AUD. The number of decimals is Stripe's (`exponent`), not CLDR's.

The locale is the workspace's (`Workspace.locale`): `portal.access.get_workspace_for` and the
public pages activate it for the request, `portal.emails.email_render` for an e-mail;
elsewhere (a worker's task, a test) it is `DEFAULT_LOCALE`.
"""

from __future__ import annotations

import contextvars
import copy
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from functools import cache

from babel import Locale, UnknownLocaleError
from babel.numbers import NumberPattern, get_currency_symbol, parse_pattern

# Stripe's lists of currencies without decimals, and with three.
ZERO_DECIMAL = frozenset("BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split())
THREE_DECIMAL = frozenset("BHD JOD KWD OMR TND".split())

# Every presentment currency Stripe lists for card payments, plus the three-decimal ones.
CURRENCIES = sorted(
    """USD AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BWP
    BYN BZD CAD CDF CHF CNY COP CRC CVE CZK DKK DOP DZD EGP ETB EUR FJD FKP GBP GEL GIP GMD
    GTQ GYD HKD HNL HTG HUF IDR ILS INR ISK JMD KES KGS KHR KYD KZT LAK LBP LKR LRD LSL MAD
    MDL MKD MMK MNT MOP MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR
    PLN QAR RON RSD RUB SAR SBD SCR SEK SGD SHP SLE SOS SRD STD SZL THB TJS TOP TRY TTD TWD
    TZS UAH UYU UZS WST XCD YER ZAR ZMW""".split()
    + list(ZERO_DECIMAL)
    + list(THREE_DECIMAL)
)

# Stripe's table of minimum charge amounts, in minor units. Other currencies have no minimum of
# their own: Stripe only requires them to convert to the settlement currency's minimum, which
# it alone knows (its answer, amount_too_small, is shown on the field or the step).
MINIMUM_CHARGE = {
    "USD": 50, "AED": 200, "AUD": 50, "BGN": 100, "BRL": 50, "CAD": 50, "CHF": 50, "CZK": 1500,
    "DKK": 250, "EUR": 50, "GBP": 30, "HKD": 400, "HUF": 17500, "INR": 50, "JPY": 50, "MXN": 1000,
    "MYR": 200, "NOK": 300, "NZD": 50, "PLN": 200, "RON": 200, "SEK": 300, "SGD": 50, "THB": 1000,
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


def minimum_charge(currency: str) -> int:
    """The least Stripe charges in ``currency`` before any conversion, in minor units: its
    table's minimum, else the smallest amount it takes (10 for three-decimal currencies, whose
    amounts end in 0; 100 for ISK, charged in whole krónur)."""
    code = currency.upper()
    if code in MINIMUM_CHARGE:
        return MINIMUM_CHARGE[code]
    return {"ISK": 100}.get(code, 10 if code in THREE_DECIMAL else 1)


def check_chargeable(minor: int, currency: str) -> None:
    """Stripe's bounds for one charge that can be known before Stripe is called (the
    currency's own minimum, eight digits, three-decimal amounts ending in 0, whole ISK); the
    minimum after conversion to the account's currency is Stripe's to say."""
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
    if code == "ISK" and minor % 100:
        raise ValueError("Stripe charges ISK in whole krónur: enter an amount without decimals.")


def check_payable_total(minor: int, currency: str) -> None:
    """A total to be paid by card, perhaps in parts: ``check_chargeable`` but for the eight
    digits (a larger total is paid in several charges)."""
    check_chargeable(min(minor, MAXIMUM_AMOUNT - MAXIMUM_AMOUNT % 100), currency)


# The locales a workspace can choose (Settings -> General), as Babel names them.
LOCALES = [
    ("en_US", "English (United States): $1,234.56"),
    ("en_GB", "English (United Kingdom): £1,234.56"),
    ("en_AU", "English (Australia): $1,234.56"),
    ("en_CA", "English (Canada): $1,234.56"),
    ("fr_FR", "Français (France) : 1 234,56 €"),
    ("de_DE", "Deutsch (Deutschland): 1.234,56 €"),
    ("es_ES", "Español (España): 1.234,56 €"),
    ("nl_NL", "Nederlands (Nederland): € 1.234,56"),
    ("ja_JP", "日本語 (日本): ￥1,234"),
]
DEFAULT_LOCALE = "en_US"

_locale: contextvars.ContextVar[str] = contextvars.ContextVar(
    "money_locale", default=DEFAULT_LOCALE
)


def active_locale() -> str:
    return _locale.get()


def locale_activate(locale: str | None) -> None:
    """Format amounts in `locale` from now on in this context (a request: the middleware
    restores the default after it); an unknown or blank locale means the default."""
    _locale.set(_known_locale(locale))


@contextmanager
def locale_override(locale: str | None) -> Iterator[None]:
    """Format amounts in `locale` inside the block (an e-mail, a request)."""
    token = _locale.set(_known_locale(locale))
    try:
        yield
    finally:
        _locale.reset(token)


@cache
def _known_locale(locale: str | None) -> str:
    try:
        return str(Locale.parse(locale)) if locale else DEFAULT_LOCALE
    except (UnknownLocaleError, ValueError, TypeError):
        return DEFAULT_LOCALE


def display_places(minor: int, currency: str) -> int:
    """Decimals shown: Stripe's exponent, but ISK, which Stripe keeps two-decimal while
    charging whole krónur only (its "special cases"), reads without ",00" when whole. HUF and
    TWD stay two-decimal (only their payouts are whole) and UGX zero-decimal, as Stripe has
    them, whatever CLDR says."""
    places = exponent(currency)
    if currency.upper() == "ISK" and minor % 100 == 0:
        return 0
    return places


@cache
def _pattern(locale: str, places: int, iso: bool) -> NumberPattern:
    """The locale's standard currency pattern with `places` decimals, its sign as the ISO
    code when `iso` ("¤¤")."""
    standard = Locale.parse(locale).currency_formats["standard"]
    if iso:
        pattern = parse_pattern(standard.pattern.replace("¤", "¤¤"))
    else:
        pattern = copy.copy(standard)
    pattern.frac_prec = (places, places)
    return pattern


def format_amount(
    minor: int,
    currency: str,
    *,
    with_code: bool = True,
    iso: bool = False,
    locale: str | None = None,
) -> str:
    """Minor units as people read them in `locale` (default: the active one): "$49.99",
    "¥500", "KWD 1.250", "-€3.00"; with `iso` the ISO code instead of the symbol ("USD 49.99",
    "49,99 USD"), for where currencies mix. With `with_code=False`, the plain major-unit
    number `parse_amount` reads back ("1,234.56", whatever the locale): for form fields."""
    code = currency.upper()
    places = display_places(int(minor), code)
    value = Decimal(int(minor)).scaleb(-exponent(code))
    if not with_code:
        return f"{value:,.{exponent(code)}f}"
    where = _known_locale(locale) if locale else active_locale()
    text = _pattern(where, places, iso).apply(
        value, Locale.parse(where), currency=code, currency_digits=False
    )
    return _spaced(text, code if iso else _symbol(code, where))


@cache
def _symbol(code: str, locale: str) -> str:
    return get_currency_symbol(code, locale)


def _spaced(text: str, sign: str) -> str:
    """CLDR's currency spacing, which Babel leaves out: a sign ending (or starting) with a
    letter is kept apart from the digits by a no-break space ("KWD 1.250", not "KWD1.250")."""
    at = text.find(sign)
    if at < 0 or not sign:
        return text
    end = at + len(sign)
    if end < len(text) and sign[-1].isalpha() and (text[end].isdigit() or text[end] == "-"):
        return f"{text[:end]}\xa0{text[end:]}"
    if at > 0 and sign[0].isalpha() and text[at - 1].isdigit():
        return f"{text[:at]}\xa0{text[at:]}"
    return text


def format_totals(totals: Mapping[str, int]) -> str:
    """Amounts in several currencies, by currency code: "$12.00" for one currency,
    "EUR 3.00 + USD 12.00" (ISO codes: the symbols could be mistaken) for more."""
    iso = len(totals) > 1
    return " + ".join(format_amount(minor, code, iso=iso) for code, minor in sorted(totals.items()))
