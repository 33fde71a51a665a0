"""A workflow's safety settings: a charge above them fails before it reaches Stripe.

The daily maximum counts today's succeeded charges and the charges still in flight: a
charging step holds its amount (in its outputs, until it finishes) under a lock on the
workflow, so runs at the same moment cannot pass the maximum together.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from automation.actions.base import ActionContext, ActionError
from automation.models import StepRun, Workflow
from portal.money import format_amount

CHARGING_STEPS = ("stripe_one_time_charge", "stripe_create_payment_intent")
HOLD = "held_for_daily_maximum"  # {"amount": minor units, "currency": ...} while in flight
IN_FLIGHT = (StepRun.Status.RUNNING, StepRun.Status.RETRYING)


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
        _hold_within_daily_maximum(amount, currency.lower(), per_day, ctx)


def _hold_within_daily_maximum(amount: int, currency: str, per_day: int, ctx) -> None:
    today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    with transaction.atomic():
        # One charging step of this workflow checks and holds at a time.
        Workflow.objects.select_for_update().filter(pk=ctx.run.workflow_id).first()
        others = StepRun.objects.filter(
            run__workflow_id=ctx.run.workflow_id,
            run__is_test=False,
            step_type__in=CHARGING_STEPS,
        ).exclude(run=ctx.run, step_key=ctx.step_key)
        done = others.filter(status=StepRun.Status.SUCCEEDED, finished_at__gte=today)
        held = others.filter(status__in=IN_FLIGHT).values_list("outputs", flat=True)
        spent = sum(o.get("amount", 0) for o in done.values_list("outputs", flat=True)
                    if o.get("currency") == currency)  # fmt: skip
        spent += sum((o.get(HOLD) or {}).get("amount", 0) for o in held
                     if (o.get(HOLD) or {}).get("currency") == currency)  # fmt: skip
        if spent + amount > per_day:
            raise ActionError(
                "VALIDATION_ERROR",
                f"This charge would take today's total to {format_amount(spent + amount, currency)}"
                f", above the workflow's daily maximum ({format_amount(per_day, currency)}).",
            )
        # The engine replaces the outputs when the step finishes, which ends the hold.
        StepRun.objects.filter(run=ctx.run, step_key=ctx.step_key).update(
            outputs={HOLD: {"amount": amount, "currency": currency}}
        )
