"""The registry of triggers and actions: key -> (label, dotted path), imported lazily.

Adding an action of automation's own is a module in automation/actions/, a line here and a
test file. An app above automation (billing's charging actions) adds its actions with
`action_register` from its `AppConfig.ready()`, so automation never imports it.
"""

from __future__ import annotations

from functools import cache

from django.utils.module_loading import import_string

TRIGGERS: dict[str, tuple[str, str]] = {
    "form_submitted": ("Form submitted", "automation.triggers.forms.FormSubmitted"),
    "appointment_booked": ("Appointment booked", "automation.triggers.appointments.Booked"),
    "appointment_status_changed": (
        "Appointment status changed",
        "automation.triggers.appointments.StatusChanged",
    ),
    "stripe_payment_event": ("Stripe payment event", "automation.triggers.stripe.PaymentEvent"),
    "stripe_charge_event": ("Stripe charge event", "automation.triggers.stripe.ChargeEvent"),
    "stripe_customer_event": ("Stripe customer event", "automation.triggers.stripe.CustomerEvent"),
    "invoice_paid": ("Invoice paid", "automation.triggers.invoices.InvoicePaid"),
    "payment_link_paid": ("Payment link paid", "automation.triggers.billing.PaymentLinkPaid"),
    "manual": ("Manual (for testing)", "automation.triggers.manual.Manual"),
}

ACTIONS: dict[str, tuple[str, str]] = {
    "stripe_create_customer": (
        "Stripe create customer",
        "automation.actions.stripe_create_customer.Action",
    ),
    "stripe_create_payment_intent": (
        "Stripe create payment intent",
        "automation.actions.stripe_create_payment_intent.Action",
    ),
    "stripe_retrieve_charge": (
        "Stripe retrieve charge",
        "automation.actions.stripe_retrieve_charge.Action",
    ),
    "stripe_refund": ("Stripe refund", "automation.actions.stripe_refund.Action"),
    "filter": ("Filter (stop unless)", "automation.actions.filter.Action"),
    "if_else": ("If / else", "automation.actions.if_else.Action"),
    "wait": ("Wait", "automation.actions.wait.Action"),
    "send_email": ("Send e-mail", "automation.actions.send_email.Action"),
    "update_contact": ("Update contact field", "automation.actions.update_contact.Action"),
}


def action_register(key: str, label: str, path: str, *, first: bool = False) -> None:
    """Add an action of another app; `first` puts it at the top of the builder's list."""
    if ACTIONS.get(key, (label, path)) != (label, path):
        raise ValueError(f"The action {key!r} is registered already.")
    entries = {key: (label, path)}
    rest = {k: v for k, v in ACTIONS.items() if k != key}
    ACTIONS.clear()
    ACTIONS.update({**entries, **rest} if first else {**rest, **entries})
    action.cache_clear()


@cache
def trigger(key: str):
    """The trigger class for a key (KeyError for an unknown key)."""
    return import_string(TRIGGERS[key][1])


@cache
def action(key: str):
    """The action class for a key (KeyError for an unknown key)."""
    return import_string(ACTIONS[key][1])
