"""Stripe's bounds on a charge's amount, as the sandbox enforces them.

Stripe answers 400 ``invalid_request_error`` with ``param: "amount"`` when a PaymentIntent or a
charge asks for:

- less than the currency's minimum charge (``amount_too_small``; Stripe's
  minimum charge amounts: USD 0.50, GBP 0.30, JPY 50...);
- less than the minimum of the account's settlement currency once converted to it
  (``amount_too_small``: JPY 50 or KRW 100 on a USD account are below USD 0.50);
- more than eight digits in the smallest unit, 99999999 (``amount_too_large``);
- a three-decimal currency (BHD, JOD, KWD, OMR, TND) amount not ending in 0, or an ISK amount
  that is not whole krónur (ISK is charged in two decimals ending in 00).

Stripe converts at the day's rate; the sandbox uses the fixed table ``USD_RATES`` below (units
of each currency for one US dollar, rounded, not today's rates), so the same amount always gets
the same answer. A currency missing from the table is not checked after conversion.
"""

from __future__ import annotations

from decimal import Decimal

from localstripe.errors import UserError

ZERO_DECIMAL = frozenset("BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split())
THREE_DECIMAL = frozenset("BHD JOD KWD OMR TND".split())
MAXIMUM_AMOUNT = 99_999_999

# Stripe's table of minimum charge amounts, in minor units.
MINIMUM_CHARGE = {
    "USD": 50, "AED": 200, "AUD": 50, "BGN": 100, "BRL": 50, "CAD": 50, "CHF": 50, "CZK": 1500,
    "DKK": 250, "EUR": 50, "GBP": 30, "HKD": 400, "HUF": 17500, "INR": 50, "JPY": 50, "MXN": 1000,
    "MYR": 200, "NOK": 300, "NZD": 50, "PLN": 200, "RON": 200, "SEK": 300, "SGD": 50, "THB": 1000,
}  # fmt: skip

# Fixed rates for the conversion check: units of the currency per US dollar.
USD_RATES = {
    "USD": "1", "AED": "3.67", "AUD": "1.5", "BGN": "1.8", "BHD": "0.376", "BRL": "5.5",
    "CAD": "1.37", "CHF": "0.88", "CLP": "950", "CNY": "7.2", "COP": "4000", "CZK": "23",
    "DKK": "6.9", "EGP": "48", "EUR": "0.92", "GBP": "0.79", "HKD": "7.8", "HUF": "360",
    "IDR": "16000", "ILS": "3.7", "INR": "83", "ISK": "138", "JOD": "0.709", "JPY": "150",
    "KES": "130", "KRW": "1350", "KWD": "0.307", "MAD": "10", "MXN": "17", "MYR": "4.7",
    "NGN": "1500", "NOK": "10.7", "NZD": "1.65", "OMR": "0.385", "PEN": "3.7", "PHP": "56",
    "PKR": "280", "PLN": "4", "QAR": "3.64", "RON": "4.6", "SAR": "3.75", "SEK": "10.5",
    "SGD": "1.35", "THB": "36", "TND": "3.1", "TRY": "32", "TWD": "32", "UAH": "40",
    "UGX": "3800", "UYU": "39", "VND": "25000", "XAF": "600", "XOF": "600", "ZAR": "18.5",
}  # fmt: skip

_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


def exponent(currency: str) -> int:
    code = currency.upper()
    return 0 if code in ZERO_DECIMAL else 3 if code in THREE_DECIMAL else 2


def display(minor: int, currency: str) -> str:
    """Stripe's way of writing an amount in its messages: ``$0.50 usd``, ``¥50 jpy``."""
    code = currency.upper()
    places = exponent(code)
    value = f"{Decimal(minor).scaleb(-places):,.{places}f}"
    return f"{_SYMBOLS.get(code, '')}{value} {code.lower()}"


def _too_small(message: str) -> UserError:
    return UserError(400, message, {"code": "amount_too_small", "param": "amount"})


def check_charge_amount(amount: object, currency: object, settlement: str | None) -> None:
    """Raise Stripe's 400 if ``amount`` of ``currency`` cannot be charged on an account that
    settles in ``settlement`` (None: no conversion check). Leaves malformed values alone:
    localstripe's own validation answers them."""
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        return
    if not isinstance(currency, str) or not currency:
        return
    code = currency.upper()
    if amount > MAXIMUM_AMOUNT:
        raise UserError(
            400,
            f"Amount must be no more than {display(MAXIMUM_AMOUNT, code)}",
            {"code": "amount_too_large", "param": "amount"},
        )
    minimum = MINIMUM_CHARGE.get(code)
    if minimum is not None and amount < minimum:
        raise _too_small(f"Amount must be at least {display(minimum, code)}")
    if code in THREE_DECIMAL and amount % 10:
        raise UserError(
            400,
            f"Invalid amount: {code.lower()} amounts must end in 0 (for example 1230, not "
            f"{amount}), as Stripe's payment partners require.",
            {"param": "amount"},
        )
    if code == "ISK" and amount % 100:
        raise UserError(
            400,
            "Invalid amount: isk amounts are whole krónur, passed with two decimals of 00 "
            f"(for example 50000, not {amount}).",
            {"param": "amount"},
        )
    _check_converted(amount, code, (settlement or "").upper())


def _check_converted(amount: int, code: str, settlement: str) -> None:
    floor = MINIMUM_CHARGE.get(settlement)
    if not settlement or settlement == code or floor is None:
        return
    if code not in USD_RATES or settlement not in USD_RATES:
        return
    major = Decimal(amount).scaleb(-exponent(code))
    converted = major / Decimal(USD_RATES[code]) * Decimal(USD_RATES[settlement])
    converted_minor = converted.scaleb(exponent(settlement))
    if converted_minor < floor:
        shown = int(converted_minor.quantize(Decimal(1)))
        raise _too_small(
            f"Amount must convert to at least {display(floor, settlement)}. "
            f"{display(amount, code)} converts to approximately {display(shown, settlement)}."
        )


def settlement_currency() -> str | None:
    """The settlement (default) currency of the account the current request acts for."""
    from stripe_sandbox import context
    from stripe_sandbox.state import STATE

    ctx = context.current()
    if ctx is None:
        return None
    account = STATE.keys.accounts.get(ctx.account_id)
    return getattr(account, "default_currency", None)
