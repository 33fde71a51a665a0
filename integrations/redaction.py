"""Stripe secrets out of text that is shown or logged: keys and signing secrets keep only
their prefix."""

from __future__ import annotations

import logging
import re

_SECRET = re.compile(r"\b(sk|rk|pk|whsec)_[A-Za-z0-9_*]+")


def redact(text: str) -> str:
    """`sk_live_4eC3...` -> `sk_[redacted]`; the same for rk_, pk_ and whsec_."""
    return _SECRET.sub(r"\1_[redacted]", text)


class RedactSecrets(logging.Filter):
    """For stripe-python's logger (settings.LOGGING). At INFO and DEBUG it logs Stripe's
    answers verbatim, among them a new webhook endpoint's signing secret and error messages
    that quote the key; whoever turns it up to see the calls must not get those too."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage()), None
        return True
