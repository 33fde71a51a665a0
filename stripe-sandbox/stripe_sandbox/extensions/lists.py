"""Lists and customers: PaymentIntent and Charge list filters (customer, payment_intent,
created), deleted-customer stubs, and customers as Stripe creates them (``customers``).
"""

from __future__ import annotations

from typing import Any

from localstripe import resources as ls
from localstripe.errors import UserError
from localstripe.resources import (
    Charge,
    Customer,
    PaymentIntent,
    StripeObject,
)


def patch_customers() -> None:
    # Customers as Stripe creates them today: see ``customers``.
    from stripe_sandbox import customers

    customers.apply()


# Where a deleted customer's stub is kept (``GET /v1/customers/{id}`` answers it, like Stripe).
DELETED_CUSTOMER_PREFIX = "deleted_customer:"


def _created_filter(created: Any) -> Any:
    """A predicate on ``obj.created`` for Stripe's ``created`` list parameter."""
    if created is None:
        return lambda obj: True
    if not isinstance(created, dict):
        value = ls.try_convert_to_int(created)
        if not isinstance(value, int):
            raise UserError(400, "Invalid created.", {"param": "created"})
        return lambda obj: obj.created == value
    ops = {
        "gt": lambda a, b: a > b,
        "gte": lambda a, b: a >= b,
        "lt": lambda a, b: a < b,
        "lte": lambda a, b: a <= b,
    }
    bounds = []
    for op, raw in created.items():
        value = ls.try_convert_to_int(raw)
        if op not in ops or not isinstance(value, int):
            raise UserError(400, f"Invalid created[{op}].", {"param": "created"})
        bounds.append((ops[op], value))
    return lambda obj: all(f(obj.created, v) for f, v in bounds)


def _filtered_list(cls: Any, url: Any, limit: Any, starting_after: Any, **filters: Any) -> Any:
    """StripeObject's list (newest first) filtered by equality on ``filters`` (None: any)."""
    created = _created_filter(filters.pop("created", None))
    li = StripeObject._api_list_all.__func__(cls, url, limit=limit, starting_after=starting_after)
    li._list = [
        obj
        for obj in li._list
        if created(obj) and all(v is None or getattr(obj, k, None) == v for k, v in filters.items())
    ]
    return li


def patch_lists() -> None:
    # localstripe's PaymentIntent list takes no filters and its Charge list only some (an
    # unknown one is a 500); the portal lists a customer's payments.
    def pi_list(
        cls: Any,
        url: Any,
        customer: Any = None,
        created: Any = None,
        limit: Any = None,
        starting_after: Any = None,
        **kw: Any,
    ) -> Any:
        if kw:
            raise UserError(400, "Received unknown parameter: " + ", ".join(kw))
        return _filtered_list(cls, url, limit, starting_after, customer=customer, created=created)

    PaymentIntent._api_list_all = classmethod(pi_list)  # type: ignore[assignment]

    def charge_list(
        cls: Any,
        url: Any,
        customer: Any = None,
        payment_intent: Any = None,
        created: Any = None,
        limit: Any = None,
        starting_after: Any = None,
        **kw: Any,
    ) -> Any:
        if kw:
            raise UserError(400, "Received unknown parameter: " + ", ".join(kw))
        return _filtered_list(
            cls,
            url,
            limit,
            starting_after,
            customer=customer,
            payment_intent=payment_intent,
            created=created,
        )

    Charge._api_list_all = classmethod(charge_list)  # type: ignore[assignment]

    orig_delete = Customer._api_delete.__func__  # type: ignore[attr-defined]

    def customer_delete(cls: Any, id: str) -> Any:
        # Stripe still answers a deleted customer's id, with the deleted stub.
        deleted = orig_delete(cls, id)
        ls.store[DELETED_CUSTOMER_PREFIX + id] = {"id": id, "object": "customer", "deleted": True}
        return deleted

    Customer._api_delete = classmethod(customer_delete)  # type: ignore[assignment]
