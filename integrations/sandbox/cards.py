"""Stripe's test cards: brands, test PaymentMethod ids and what charging each card does.

Facts from Stripe's testing documentation (see shared/reference/stripe-test-data.md).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Decline:
    """How a charge fails: the error ``code``, the ``decline_code`` and the message."""

    code: str
    decline_code: str
    message: str


GENERIC_DECLINE = Decline("card_declined", "generic_decline", "Your card was declined.")
AUTHENTICATION_REQUIRED = Decline(
    "authentication_required",
    "authentication_required",
    "Your card was declined. This transaction requires authentication.",
)

# Charging these numbers fails (localstripe only declines some of them on attach).
DECLINES: dict[str, Decline] = {
    "4000000000000002": GENERIC_DECLINE,
    "4000000000000341": GENERIC_DECLINE,
    "4000000000009995": Decline(
        "card_declined", "insufficient_funds", "Your card has insufficient funds."
    ),
    "4000000000009987": Decline("card_declined", "lost_card", "Your card was declined."),
    "4000000000009979": Decline("card_declined", "stolen_card", "Your card was declined."),
    "4000000000000069": Decline("expired_card", "expired_card", "Your card has expired."),
    "4000000000000127": Decline(
        "incorrect_cvc", "incorrect_cvc", "Your card's security code is incorrect."
    ),
    "4000000000000119": Decline(
        "processing_error",
        "processing_error",
        "An error occurred while processing your card. Try again in a little bit.",
    ),
}

# 3-D Secure cards that succeed off-session (they count as set up for off-session use);
# other cards requiring authentication fail off-session with ``authentication_required``.
OFF_SESSION_OK = frozenset({"4000002500003155"})

# Test PaymentMethod ids Stripe turns into a new PaymentMethod for the card number.
TEST_PAYMENT_METHODS: dict[str, str] = {
    "pm_card_visa": "4242424242424242",
    "pm_card_visa_debit": "4000056655665556",
    "pm_card_mastercard": "5555555555554444",
    "pm_card_amex": "378282246310005",
    "pm_card_discover": "6011111111111117",
    "pm_card_diners": "3056930009020004",
    "pm_card_jcb": "3566002020360505",
    "pm_card_chargeDeclined": "4000000000000002",
    "pm_card_visa_chargeDeclined": "4000000000000002",
    "pm_card_chargeDeclinedInsufficientFunds": "4000000000009995",
    "pm_card_chargeDeclinedLostCard": "4000000000009987",
    "pm_card_chargeDeclinedStolenCard": "4000000000009979",
    "pm_card_chargeDeclinedExpiredCard": "4000000000000069",
    "pm_card_chargeDeclinedIncorrectCvc": "4000000000000127",
    "pm_card_chargeDeclinedProcessingError": "4000000000000119",
    "pm_card_chargeCustomerFail": "4000000000000341",
    "pm_card_authenticationRequiredOnSetup": "4000002500003155",
    "pm_card_authenticationRequired": "4000002760003184",
}

# Longest prefixes first.
_BRANDS = (
    ("34", "amex"),
    ("37", "amex"),
    ("35", "jcb"),
    ("30", "diners"),
    ("36", "diners"),
    ("38", "diners"),
    ("6", "discover"),
    ("4", "visa"),
    ("5", "mastercard"),
    ("2", "mastercard"),
)


def brand(number: str) -> str:
    """The card brand Stripe reports for ``number`` (``unknown`` if none matches)."""
    for prefix, name in _BRANDS:
        if number.startswith(prefix):
            return name
    return "unknown"


def decline_for(number: str | None) -> Decline | None:
    """How charging ``number`` fails, or None if it succeeds."""
    return DECLINES.get(number or "")
