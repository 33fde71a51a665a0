from __future__ import annotations

from django import template

from portal.money import format_amount

register = template.Library()


@register.filter
def money(minor: int | None, currency: str) -> str:
    """`{{ payment.amount|money:payment.currency }}` -> "49.99 USD"."""
    if minor is None or not currency:
        return ""
    return format_amount(minor, currency)
