"""`{{ amount|money:currency }}` and the block that says currencies mix.

An amount reads in the active locale with its currency's symbol ("$49.99"). Inside
`{% amounts_among rows %}...{% endamounts_among %}`, when the rows (payments, links, invoices,
work items, bookings, (payment, ...) tuples, or currency codes; several may be named) hold
more than one currency, every amount shows its ISO code instead ("USD 49.99"): "$" alone
cannot tell USD from CAD.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterable

from django import template

from portal.labels import status_label
from portal.money import format_amount

register = template.Library()

_iso: contextvars.ContextVar[bool] = contextvars.ContextVar("money_iso", default=False)


@register.filter
def money(minor: int | None, currency: str) -> str:
    """`{{ payment.amount|money:payment.currency }}` -> "$49.99" (en_US), "49,99 $" (de_DE);
    "USD 49.99" inside an `amounts_among` block whose rows mix currencies."""
    if minor is None or not currency:
        return ""
    return format_amount(minor, currency, iso=_iso.get())


@register.filter
def money_iso(minor: int | None, currency: str) -> str:
    """`{{ total|money_iso:currency }}` -> "USD 49.99": the ISO code whatever the context."""
    if minor is None or not currency:
        return ""
    return format_amount(minor, currency, iso=True)


@register.filter(name="status_label")
def status_label_filter(code: str | None) -> str:
    """`{{ bank.status|status_label }}` -> "Verification failed": a status code as words."""
    return status_label(code)


class AmountsAmongNode(template.Node):
    def __init__(self, lists: list[template.base.FilterExpression], nodelist):
        self.lists = lists
        self.nodelist = nodelist

    def render(self, context) -> str:
        currencies: set[str] = set()
        for expression in self.lists:
            currencies |= _currencies(expression.resolve(context))
        token = _iso.set(len(currencies) > 1 or _iso.get())
        try:
            return self.nodelist.render(context)
        finally:
            _iso.reset(token)


def _currencies(rows) -> set[str]:
    if not rows or isinstance(rows, str):
        return {rows.lower()} if rows else set()
    found: set[str] = set()
    for row in rows if isinstance(rows, Iterable) else [rows]:
        if isinstance(row, tuple | list):
            row = row[0]
        code = getattr(row, "currency", None) or getattr(row, "price_currency", None)
        if code is None and hasattr(row, "invoice"):  # a work item: its invoice's
            code = getattr(row.invoice, "currency", None)
        if code is None and isinstance(row, dict):
            code = row.get("currency")
        if code:
            found.add(str(code).lower())
    return found


@register.tag
def amounts_among(parser, token):
    """`{% amounts_among page.object_list links %}...{% endamounts_among %}`."""
    bits = token.split_contents()[1:]
    if not bits:
        raise template.TemplateSyntaxError("amounts_among needs the rows it looks at.")
    nodelist = parser.parse(("endamounts_among",))
    parser.delete_first_token()
    return AmountsAmongNode([parser.compile_filter(bit) for bit in bits], nodelist)
