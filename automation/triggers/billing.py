from __future__ import annotations

from automation.triggers.base import Trigger


class PaymentLinkPaid(Trigger):
    """A customer paid a payment link (emitted once per link by billing)."""

    key = "payment_link_paid"
    label = "Payment link paid"
    outputs = [
        "type",
        "payment_link.id",
        "payment_link.description",
        "payment.amount",
        "payment.currency",
        "payment.payment_intent",
        "payment.charge",
    ]

    @classmethod
    def sample(cls, workspace) -> dict:
        return {
            "type": cls.key,
            "payment_link": {"id": "sample", "description": "Cleaning"},
            "payment": {"id": "sample", "amount": 12000, "currency": "usd",
                        "payment_intent": "pi_sample", "charge": "ch_sample"},
        }  # fmt: skip
