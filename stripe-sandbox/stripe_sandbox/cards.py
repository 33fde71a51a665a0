"""Stripe's test cards: brands, test PaymentMethod ids and what charging each card does.

Facts from Stripe's published test card numbers and their outcomes.
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
    "4000000000006975": Decline(
        "card_declined", "card_velocity_exceeded", "Your card was declined."
    ),
    "4100000000000019": Decline("card_declined", "fraudulent", "Your card was declined."),
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

# 3-D Secure cards that need authentication once: after a SetupIntent (or a payment with
# ``setup_future_usage``) authenticated them, off-session charges succeed. Before that, and for
# the other cards requiring authentication (4000002760003184 always does), an off-session
# charge fails with ``authentication_required``.
AUTHENTICATE_ONCE = frozenset({"4000002500003155"})

# Test PaymentMethod ids Stripe turns into a new PaymentMethod for the card number.
TEST_PAYMENT_METHODS: dict[str, str] = {
    "pm_card_visa": "4242424242424242",
    "pm_card_visa_debit": "4000056655665556",
    "pm_card_mastercard": "5555555555554444",
    "pm_card_mastercard_debit": "5200828282828210",
    "pm_card_mastercard_prepaid": "5105105105105100",
    "pm_card_amex": "378282246310005",
    "pm_card_discover": "6011111111111117",
    "pm_card_diners": "3056930009020004",
    "pm_card_jcb": "3566002020360505",
    "pm_card_unionpay": "6200000000000005",
    "pm_card_chargeDeclined": "4000000000000002",
    "pm_card_visa_chargeDeclined": "4000000000000002",
    "pm_card_chargeDeclinedInsufficientFunds": "4000000000009995",
    "pm_card_visa_chargeDeclinedInsufficientFunds": "4000000000009995",
    "pm_card_visa_chargeDeclinedLostCard": "4000000000009987",
    "pm_card_visa_chargeDeclinedStolenCard": "4000000000009979",
    "pm_card_visa_chargeDeclinedVelocityLimitExceeded": "4000000000006975",
    "pm_card_radarBlock": "4100000000000019",
    "pm_card_chargeDeclinedLostCard": "4000000000009987",
    "pm_card_chargeDeclinedStolenCard": "4000000000009979",
    "pm_card_chargeDeclinedExpiredCard": "4000000000000069",
    "pm_card_chargeDeclinedIncorrectCvc": "4000000000000127",
    "pm_card_chargeDeclinedProcessingError": "4000000000000119",
    "pm_card_chargeCustomerFail": "4000000000000341",
    "pm_card_authenticationRequiredOnSetup": "4000002500003155",
    "pm_card_authenticationRequired": "4000002760003184",
}

# Test tokens (``tok_visa``): usable as ``card[token]`` of a new PaymentMethod or as a charge's
# ``source``, like on Stripe.
TEST_TOKENS: dict[str, str] = {
    "tok_visa": "4242424242424242",
    "tok_visa_debit": "4000056655665556",
    "tok_mastercard": "5555555555554444",
    "tok_mastercard_debit": "5200828282828210",
    "tok_mastercard_prepaid": "5105105105105100",
    "tok_amex": "378282246310005",
    "tok_discover": "6011111111111117",
    "tok_diners": "3056930009020004",
    "tok_jcb": "3566002020360505",
    "tok_unionpay": "6200000000000005",
    "tok_chargeDeclined": "4000000000000002",
    "tok_chargeDeclinedInsufficientFunds": "4000000000009995",
    "tok_chargeDeclinedLostCard": "4000000000009987",
    "tok_chargeDeclinedStolenCard": "4000000000009979",
    "tok_chargeDeclinedExpiredCard": "4000000000000069",
    "tok_chargeDeclinedIncorrectCvc": "4000000000000127",
    "tok_chargeDeclinedProcessingError": "4000000000000119",
    "tok_visa_chargeDeclinedVelocityLimitExceeded": "4000000000006975",
    "tok_chargeCustomerFail": "4000000000000341",
    "tok_radarBlock": "4100000000000019",
}

# Longest prefixes first.
_BRANDS = (
    ("34", "amex"),
    ("37", "amex"),
    ("35", "jcb"),
    ("62", "unionpay"),
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
