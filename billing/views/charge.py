"""Charge a customer (staff): card on file, new card (Stripe.js) or a payment link.

One page with three tabs (`?tab=card|new|link`, plain links). Each tab's form posts back here
with its `tab`; the new-card tab answers JSON (the PaymentIntent's client secret) to pay.js.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from billing.forms import CardOnFileForm, NewCardForm, PaymentLinkForm, card_label
from billing.models import Payment
from billing.selectors import attempt_payment, default_currency, saved_cards, unpaid_bookings
from billing.services.charges import (
    ChargeError,
    RepeatCharge,
    charge_card_on_file,
    new_card_payment_start,
    payment_refresh,
    usable_connection,
)
from billing.services.ledger import FINAL
from billing.services.links import payment_link_create
from integrations.errors import VALIDATION_ERROR, GatewayError
from integrations.selectors import default_connection
from integrations.stripe_js import stripe_js_csp
from portal import perms
from portal.access import PortalRequest, workspace_view
from portal.audit import audit_by
from portal.money import format_amount

TABS = {"card": "Card on file", "new": "New card", "link": "Send payment link"}


def _forms(request: PortalRequest, contact, tab: str, data=None) -> dict:
    """The tab's form, bound to `data` on a POST; initial values from the query string."""
    initial = {"currency": default_currency(request.workspace), **request.GET.dict()}
    if tab == "card":
        cards, problem = saved_cards(contact)
        return {"form": CardOnFileForm(data, cards=cards, initial=initial), "problem": problem}
    if tab == "new":
        return {"form": NewCardForm(data, initial=initial)}
    return {"form": PaymentLinkForm(data, appointments=unpaid_bookings(contact), initial=initial)}


def _context(request: PortalRequest, contact, tab: str, data=None) -> dict:
    connection = default_connection(request.workspace)
    context = {"contact": contact, "tab": tab, "tabs": TABS, "connection": connection}
    context["stripe_js_url"] = settings.STRIPE_JS_URL
    try:
        usable_connection(request.workspace)
    except ValidationError as error:
        context["setup_problem"] = error.messages[0]
    return {**context, **_forms(request, contact, tab, data)}


@stripe_js_csp  # the "New card" tab loads Stripe.js
@workspace_view(perms.BILLING_CHARGE)
@require_http_methods(["GET", "POST"])
def contact_charge(request: PortalRequest, contact_uuid):
    contact = get_object_or_404(request.workspace.contacts, uuid=contact_uuid)
    tab = request.POST.get("tab") or request.GET.get("tab") or "card"
    tab = tab if tab in TABS else "card"
    context = _context(request, contact, tab, request.POST if request.method == "POST" else None)
    if request.method == "POST" and tab == "new":
        return _new_card_intent(request, contact, context["form"])
    if request.method == "POST" and tab == "link" and context["form"].is_valid():
        link = _link_create(request, contact, context["form"])
        if link is not None:
            return redirect("payment_link_detail", request.workspace.slug, link.uuid)
    if request.method == "POST" and tab == "card" and context["form"].is_valid():
        context.update(_charge_card(request, contact, context["form"]))
    return render(request, "billing/charge.html", context)


def _charge_card(request: PortalRequest, contact, form: CardOnFileForm) -> dict:
    """The confirmation step, then the charge; what the page shows about it."""
    data = form.cleaned_data
    question = (
        f"Charge {format_amount(data['minor'], data['currency'])} to {card_label(form.card)}?"
    )
    if not data["confirmed"]:
        return {"confirm": question}
    earlier = attempt_payment(request.workspace, contact, data["attempt"])
    if earlier is not None and earlier.status in (*FINAL, Payment.Status.PROCESSING):
        # This form was sent before (Back, a resend): its first result, nothing charged.
        return {"payment": earlier, "already": True}
    try:
        payment = charge_card_on_file(
            workspace=request.workspace,
            contact=contact,
            payment_method_id=data["payment_method"],
            amount=data["minor"],
            currency=data["currency"],
            description=data["description"],
            user=request.user,
            attempt=data["attempt"],
            allow_repeat=data["repeat"],
            **audit_by(request),
        )
    except RepeatCharge as error:
        return {"confirm": question, "repeat": error.messages[0], "earlier": error.earlier}
    except ChargeError as error:
        if error.error.code == VALIDATION_ERROR:  # Stripe refused a value: say it by its field
            return {"form": _refused_form(request, form, error.error)}
        # The next try is a new attempt: the declined one stays declined.
        keep = {k: v for k, v in data.items() if k not in ("attempt", "confirmed", "repeat")}
        fresh = CardOnFileForm(initial=keep, cards=form.cards.values())
        prefill = {"tab": "link", "amount": data["amount"], "currency": data["currency"],
                   "description": data["description"]}  # fmt: skip
        return {"declined": error.error.message, "needs_customer": error.needs_customer,
                "form": fresh, "link_prefill": urlencode(prefill)}  # fmt: skip
    except GatewayError as error:  # retryable: the same attempt may be sent again safely
        return {"confirm": question, "retry_problem": error.message}
    except (ValidationError, ValueError) as error:
        form.add_error(None, error.messages if isinstance(error, ValidationError) else str(error))
        return {}
    return {"payment": payment}


def _new_card_intent(request: PortalRequest, contact, form: NewCardForm) -> JsonResponse:
    if not form.is_valid():
        return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
    data = form.cleaned_data
    try:
        payment, secret = new_card_payment_start(
            workspace=request.workspace,
            contact=contact,
            amount=data["minor"],
            currency=data["currency"],
            description=data["description"],
            user=request.user,
            attempt=data["attempt"],
            allow_repeat=data["repeat"],
            **audit_by(request),
        )
    except RepeatCharge as error:
        return JsonResponse({"errors": {"repeat": [{"message": error.messages[0]}]}}, status=400)
    except GatewayError as error:
        if error.code != VALIDATION_ERROR:  # the outcome is unknown: the same attempt again
            return JsonResponse({"errors": {"__all__": [{"message": error.message}]}}, status=400)
        # Refused for good, by its field where Stripe names one: the next try is a new attempt.
        field = error.param if error.param in form.fields else "__all__"
        return JsonResponse(
            {"errors": {field: [{"message": error.message}]}, "attempt": str(uuid.uuid4())},
            status=400,
        )
    except (ValidationError, ValueError) as error:
        message = getattr(error, "message", None) or "; ".join(getattr(error, "messages", []))
        return JsonResponse(
            {"errors": {"__all__": [{"message": message or str(error)}]}}, status=400
        )
    return_url = reverse("payment_return", args=[request.workspace.slug, payment.uuid])
    if payment.status in (*FINAL, Payment.Status.PROCESSING):
        # This form was sent before (Back, a resend): show its first result, confirm nothing.
        return JsonResponse({"done": True, "return_url": return_url})
    return JsonResponse({"client_secret": secret, "return_url": return_url})


def _link_create(request: PortalRequest, contact, form: PaymentLinkForm):
    data = form.cleaned_data
    try:
        return payment_link_create(
            workspace=request.workspace,
            contact=contact,
            amount=data["minor"],
            currency=data["currency"],
            description=data["description"],
            appointments=list(data["appointments"]),
            expires_in=form.expires_in,
            user=request.user,
            attempt=data["attempt"],
            allow_repeat=data["repeat"],
            **audit_by(request),
        )
    except ValidationError as error:  # a dict ({"repeat": ...}) goes next to its field
        form.add_error(None, error)
        return None
    except ValueError as error:
        form.add_error(None, str(error))
        return None


def _refused_form(request: PortalRequest, form: CardOnFileForm, error: GatewayError):
    """The form again with Stripe's message next to the field it names, under a new token
    (the refused attempt stays refused), at its first step."""
    data = request.POST.copy()
    data["attempt"] = str(uuid.uuid4())
    data.pop("confirmed", None)
    again = CardOnFileForm(data, cards=form.cards.values())
    again.is_valid()
    again.add_error(error.param if error.param in again.fields else None, error.message)
    return again


@workspace_view(perms.BILLING_CHARGE)
@require_GET
def payment_return(request: PortalRequest, payment_uuid):
    """Where Stripe.js sends the staff's page after confirming a new card: ask Stripe, show."""
    payment = get_object_or_404(
        request.workspace.payments.select_related("contact"), uuid=payment_uuid
    )
    try:
        payment = payment_refresh(payment=payment)
    except GatewayError as error:
        return render(
            request, "billing/return.html", {"payment": payment, "problem": error.message}
        )
    return render(request, "billing/return.html", {"payment": payment, "Status": Payment.Status})
