"""The payer's pay form (stripe=pay, assignees only): card or verified bank account.

One page, several forms posting here with an `action`: "pay" (a saved card charges at once;
a new card answers JSON with the PaymentIntent's client secret, which invoice_pay.js confirms
with Stripe.js, then the browser comes back through `work_item_pay_return`), "add_bank" and
"verify_bank" (ACH microdeposits).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from billing.services.charges import payment_refresh_for_visitor, usable_connection
from integrations.errors import GatewayError
from integrations.stripe_js import stripe_js_csp
from invoices import banks
from invoices.forms import BankAccountForm, BankVerifyForm, PayForm
from invoices.models import InvoicePayment, PayerProfile, WorkItem
from invoices.payments import available_to_pay, invoice_pay_bank, invoice_pay_card
from invoices.selectors import payer_cards_list
from invoices.views.work_items import assigned_item
from portal import perms
from portal.access import PortalRequest, workspace_view
from portal.money import format_amount
from portal.ratelimit import client_address


def _setup(request: PortalRequest) -> dict:
    """The connection, the payer's saved cards and bank accounts; or why payments can't load."""
    try:
        connection = usable_connection(request.workspace)
    except ValidationError as error:
        return {"problem": error.messages[0], "not_set_up": True}
    profile = PayerProfile.objects.filter(user=request.user, connection=connection).first()
    try:
        cards = payer_cards_list(profile, connection)
        ach = banks.ach_available(connection)
        accounts = banks.bank_accounts_for(payer=request.user, connection=connection) if ach else []
    except GatewayError as error:
        return {"problem": f"Stripe did not answer ({error.message}). Reload in a moment."}
    return {"connection": connection, "cards": cards, "ach": ach, "banks": accounts}


@stripe_js_csp
@workspace_view(perms.STRIPE_PAY)
@require_http_methods(["GET", "POST"])
def work_item_pay(request: PortalRequest, item_uuid):
    item = assigned_item(request, item_uuid)
    if item.status != WorkItem.Status.OPEN:
        return redirect(item)
    setup = _setup(request)
    if "problem" in setup:
        return render(request, "invoices/work_items/pay.html", {"item": item, **setup})
    action = request.POST.get("action", "pay") if request.method == "POST" else ""
    if action in ("add_bank", "verify_bank") and setup["ach"]:
        return _bank_action(request, item, setup, action)
    form = PayForm(
        request.POST if action == "pay" else None, invoice=item.invoice,
        available=available_to_pay(item.invoice), cards=setup["cards"], banks=setup["banks"],
        ach=setup["ach"], initial={"method": request.GET.get("method", "card")},
    )  # fmt: skip
    if action == "pay":
        return _pay(request, item, setup, form)
    return _render(request, item, setup, form)


def _render(request, item, setup, form, **extra):
    context = {"item": item, "invoice": item.invoice, "form": form, **setup, **extra}
    context["stripe_js_url"] = settings.STRIPE_JS_URL
    context.setdefault("bank_form", BankAccountForm())
    context["verify_forms"] = {
        bank.uuid: BankVerifyForm(initial={"bank": bank.uuid})
        for bank in setup["banks"] if bank.status == "pending"
    } | extra.get("bound_verify", {})  # fmt: skip
    return render(request, "invoices/work_items/pay.html", context)


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _pay(request, item, setup, form):
    wants_json = _wants_json(request)
    if form.is_valid() and form.new_card and not wants_json:
        form.add_error("payment_method", "Paying with a new card needs JavaScript in the browser.")
    if not form.is_valid():
        if wants_json:
            return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
        return _render(request, item, setup, form)
    data = form.cleaned_data
    try:
        if data["method"] == "ach":
            result = invoice_pay_bank(
                work_item=item,
                payer=request.user,
                amount=data["amount"],
                bank=form.bank,
                attempt=data["attempt"],
                allow_repeat=data["repeat"],
                address=client_address(request),
            )
        else:
            card = "" if form.new_card else data["payment_method"]
            result = invoice_pay_card(
                work_item=item,
                payer=request.user,
                amount=data["amount"],
                payment_method_id=card,
                attempt=data["attempt"],
                allow_repeat=data["repeat"],
                address=client_address(request),
            )
    except (ValidationError, GatewayError) as error:
        _add_errors(form, error)
        answer = {"errors": form.errors.get_json_data()}
        if isinstance(error, ValidationError):
            # Refused for good (a decline, Stripe's or our own check): the next try, with
            # another card or amount, is a new attempt. An error whose outcome is unknown
            # keeps the token, so sending it again cannot pay twice.
            form.data = form.data.copy()
            form.data["attempt"] = answer["attempt"] = str(uuid.uuid4())
        if wants_json:
            return JsonResponse(answer, status=400)
        return _render(request, item, setup, form)
    if result.client_secret:
        args = [request.workspace.slug, item.uuid, result.attempt.uuid]
        return_url = reverse("work_item_pay_return", args=args)
        return JsonResponse({"client_secret": result.client_secret, "return_url": return_url})
    if result.repeated:
        messages.info(request, "This payment was already made (the form was sent again): "
                      "nothing more was paid.")  # fmt: skip
    _say_result(request, result.attempt)
    if wants_json:  # the new-card form sent again after its payment: show that result
        return JsonResponse({"done": True, "return_url": item.get_absolute_url()})
    return redirect(item)


def _add_errors(form, error) -> None:
    if isinstance(error, GatewayError):
        form.add_error(None, error.message)
    elif hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


BANK_ADDED = (
    "Bank account added. Stripe sends two small deposits to it in 1 to 2 business days: "
    "enter their amounts below to verify it."
)


def _bank_action(request, item, setup, action):
    """Add a bank account or verify one; on a problem, the page again with the form's errors."""
    form = (BankAccountForm if action == "add_bank" else BankVerifyForm)(request.POST)
    try:
        if form.is_valid() and action == "add_bank":
            connection = setup["connection"]
            banks.bank_account_add(
                payer=request.user, connection=connection, **form.cleaned_data,
                ip_address=request.META.get("REMOTE_ADDR") or "127.0.0.1",
                user_agent=request.headers.get("User-Agent", "Agency Portal"),
            )  # fmt: skip
            messages.success(request, BANK_ADDED)
            return redirect(_ach_url(request, item))
        if form.is_valid():
            bank = _verify(request, setup, form.cleaned_data)
            label = f"{bank.bank_name or 'Bank account'} •••• {bank.last4}"
            messages.success(request, f"{label} is verified: you can pay with it.")
            return redirect(_ach_url(request, item))
    except (ValidationError, GatewayError) as error:
        _add_errors(form, error)
    setup = {**setup, **_setup(request)}  # a failed verification may have locked the account
    pay_form = PayForm(
        invoice=item.invoice, available=available_to_pay(item.invoice), cards=setup["cards"],
        banks=setup["banks"], ach=True, initial={"method": "ach"},
    )  # fmt: skip
    if action == "add_bank":
        return _render(request, item, setup, pay_form, bank_form=form)
    bank_uuid = form.cleaned_data.get("bank")
    bound = {bank_uuid: form} if bank_uuid else {}
    return _render(request, item, setup, pay_form, bound_verify=bound)


def _verify(request, setup, data):
    bank = next((b for b in setup["banks"] if b.uuid == data["bank"]), None)
    if bank is None:
        raise ValidationError("Choose one of your bank accounts.")
    return banks.bank_account_verify(
        bank=bank, amounts=data["amounts"], descriptor_code=data["descriptor_code"]
    )


def _ach_url(request, item) -> str:
    return reverse("work_item_pay", args=[request.workspace.slug, item.uuid]) + "?method=ach#ach"


def _say_result(request, attempt: InvoicePayment) -> None:
    invoice = attempt.invoice
    invoice.refresh_from_db()
    paid = format_amount(attempt.amount, invoice.currency)
    status = invoice.get_status_display()
    if attempt.status == InvoicePayment.Status.SUCCEEDED:
        messages.success(request, f"Paid {paid}. The invoice is now {status}.")
    elif attempt.status == InvoicePayment.Status.PROCESSING:
        messages.info(request, f"Payment of {paid} is processing: bank payments take a few "
                      f"business days. The invoice reads {status}.")  # fmt: skip
    elif attempt.status == InvoicePayment.Status.FAILED:
        messages.error(request, f"The payment of {paid} failed: {attempt.failure_message}")
    else:
        messages.warning(
            request, f"The payment of {paid} is not confirmed yet. The invoice is {status}."
        )


@workspace_view(perms.STRIPE_PAY)
@require_GET
def work_item_pay_return(request: PortalRequest, item_uuid, attempt_uuid):
    """Where the page goes after Stripe.js confirmed a new card: ask Stripe (at most as often
    as a visitor's page may), then show it."""
    item = assigned_item(request, item_uuid)
    attempt = get_object_or_404(
        item.attempts.select_related("payment", "invoice"), uuid=attempt_uuid
    )
    if attempt.payment is not None:
        try:
            payment_refresh_for_visitor(payment=attempt.payment, address=client_address(request))
        except GatewayError:
            messages.warning(request, "Stripe did not answer: the payment shows here once it does.")
            return redirect(item)
    attempt.refresh_from_db()
    _say_result(request, attempt)
    return redirect(item)
