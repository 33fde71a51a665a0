"""A workflow's safety settings: a charge above them fails before it reaches Stripe.

A charging step whose customer or amount comes from what a stranger typed (a public form or
booking, or the contact such a page found by the e-mail typed) needs a maximum per charge and
a maximum per day: it cannot be published without them, and a version that lacks them (one
published before the rule) refuses to charge.

The daily maximum counts today's succeeded charges and the charges still in flight: a
charging step holds its amount (in its outputs, until it finishes) under a lock on the
workflow, so runs at the same moment cannot pass the maximum together.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from automation import registry
from automation.actions.base import ActionContext, ActionError
from automation.models import StepRun, Workflow
from automation.variables import variables_in
from portal.money import format_amount

CHARGING_STEPS = ("stripe_one_time_charge", "stripe_create_payment_intent")
# The settings of a charging step that choose whose money moves, and how much.
PAYER_FIELDS = {"customer_id": "customer", "customer": "customer", "amount": "amount"}
HOLD = "held_for_daily_maximum"  # {"amount": minor units, "currency": ...} while in flight
IN_FLIGHT = (StepRun.Status.RUNNING, StepRun.Status.RETRYING)


def visitor_fed(*, trigger_type: str | None, config: dict) -> list[str]:
    """Which payer fields ("customer", "amount") of a charging step's `config` a visitor's
    values feed.

    On a trigger a stranger fires, every variable is theirs: the trigger's fields directly,
    `contact.*` through the e-mail they typed, earlier steps' outputs through their inputs.
    """
    if trigger_type not in registry.TRIGGERS or not registry.trigger(trigger_type).visitor_input:
        return []
    fed = {label for name, label in PAYER_FIELDS.items() if variables_in(config.get(name))}
    return sorted(fed)


def uncapped_problem(*, trigger_type: str | None, step: dict, settings: dict) -> str:
    """Why this step may not charge as the workflow stands ("" when it may, or it does not
    charge)."""
    if step.get("type") not in CHARGING_STEPS:
        return ""
    fed = visitor_fed(trigger_type=trigger_type, config=step.get("config") or {})
    if not fed or (settings.get("max_amount_per_charge") and settings.get("max_amount_per_day")):
        return ""
    what = " and ".join(fed)
    return (
        f"Its {what} come{'s' if len(fed) == 1 else ''} from what a visitor typed on a public "
        "page, so anyone could choose it: set a maximum per charge and a maximum per day in "
        "the workflow's settings, or use a fixed customer ID and amount."
    )


def check(amount: int, currency: str, ctx: ActionContext) -> None:
    limits = ctx.settings or {}
    # Only charging steps call this: any of them is held to the rule.
    step = {"type": CHARGING_STEPS[0], "config": ctx.config}
    problem = uncapped_problem(trigger_type=ctx.run.trigger_type, step=step, settings=limits)
    if problem:
        raise ActionError("VALIDATION_ERROR", f"Nothing was charged. {problem}")
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
