"""A workflow's safety settings: a charge above them fails before it reaches Stripe."""

from __future__ import annotations

from django.utils import timezone

from automation.actions.base import ActionContext, ActionError
from automation.models import StepRun
from portal.money import format_amount

CHARGING_STEPS = ("stripe_one_time_charge", "stripe_create_payment_intent")


def check(amount: int, currency: str, ctx: ActionContext) -> None:
    limits = ctx.settings or {}
    limit_currency = (limits.get("safety_currency") or "usd").lower()
    if currency.lower() != limit_currency:
        if limits.get("max_amount_per_charge") or limits.get("max_amount_per_day"):
            raise ActionError(
                "VALIDATION_ERROR",
                f"The workflow's safety limits are in {limit_currency.upper()}; this step "
                f"charges {currency.upper()}.",
            )
        return
    per_charge = limits.get("max_amount_per_charge")
    if per_charge and amount > per_charge:
        raise ActionError(
            "VALIDATION_ERROR",
            f"{format_amount(amount, currency)} is above this workflow's maximum per charge "
            f"({format_amount(per_charge, currency)}); nothing was charged.",
        )
    per_day = limits.get("max_amount_per_day")
    if per_day:
        today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
        done = StepRun.objects.filter(
            run__workflow=ctx.run.workflow,
            run__is_test=False,
            step_type__in=CHARGING_STEPS,
            status=StepRun.Status.SUCCEEDED,
            finished_at__gte=today,
        ).values_list("outputs", flat=True)
        spent = sum(o.get("amount", 0) for o in done if o.get("currency") == currency.lower())
        if spent + amount > per_day:
            raise ActionError(
                "VALIDATION_ERROR",
                f"This charge would take today's total to {format_amount(spent + amount, currency)}"
                f", above the workflow's daily maximum ({format_amount(per_day, currency)}).",
            )
