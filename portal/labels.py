"""Statuses are words, not codes: the label a person reads for a status code Stripe (or a
model without choices) hands us, "verification_failed" -> "Verification failed".

Our own models' statuses have choices with labels (`get_status_display`); this is for codes
that come from Stripe: PaymentIntent, SetupIntent, refund, bank account, payout statuses.
"""

from __future__ import annotations

# Where a better word than the code exists. Others read as the code in words.
LABELS = {
    # PaymentIntent and SetupIntent
    "requires_payment_method": "Needs a payment method",
    "requires_confirmation": "Needs confirmation",
    "requires_action": "Needs the customer",
    "requires_capture": "Authorized, not captured",
    "processing": "Processing",
    "succeeded": "Succeeded",
    "canceled": "Canceled",
    # Bank accounts (external accounts)
    "new": "New",
    "validated": "Validated",
    "verified": "Verified",
    "verification_failed": "Verification failed",
    "errored": "Payouts failed",
    # Payouts and refunds
    "in_transit": "In transit",
    "paid": "Paid",
    "pending": "Pending",
    "failed": "Failed",
}


def status_label(code: str | None) -> str:
    """The words for `code`; an unknown code as words ("past_due" -> "Past due")."""
    if not code:
        return ""
    text = str(code)
    return LABELS.get(text, text.replace("_", " ").strip().capitalize())
