"""The payments ledger (staff): the list with filters and a daily chart, one payment, refunds."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from billing.forms import PaymentFilterForm, RefundForm
from billing.selectors import (
    chart_currency,
    currencies_paid,
    daily_chart,
    payment_timeline,
    payments_filtered,
)
from billing.services.refunds import payment_refund
from integrations.errors import GatewayError
from portal import perms
from portal.access import PortalRequest, workspace_view
from portal.audit import audit_by
from portal.money import format_amount
from portal.pagination import paginate


@workspace_view(perms.BILLING_CHARGE)
@require_GET
def payment_list(request: PortalRequest):
    paid = currencies_paid(request.workspace)
    filters = PaymentFilterForm(request.GET, paid=paid.counts)
    data = filters.cleaned_data if filters.is_valid() else {}
    currency = chart_currency(data.get("currency", ""), paid)
    context = {
        "filters": filters,
        "page": paginate(request, payments_filtered(request.workspace, data)),
        "chart": daily_chart(request.workspace, currency, paid),
        # The filters again for the pagination links (without the page number).
        "query_string": _without_page(request),
    }
    return render(request, "billing/payments/list.html", context)


def _without_page(request: PortalRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _payment(request: PortalRequest, payment_uuid):
    payments = request.workspace.payments.select_related("contact", "started_by", "connection")
    return get_object_or_404(payments, uuid=payment_uuid)


def _detail(request: PortalRequest, payment, form, **extra):
    context = {"payment": payment, "form": form, "timeline": payment_timeline(payment), **extra}
    context["bookings"] = payment.appointments.select_related("calendar")
    return render(request, "billing/payments/detail.html", context)


@workspace_view(perms.BILLING_CHARGE)
@require_GET
def payment_detail(request: PortalRequest, payment_uuid):
    payment = _payment(request, payment_uuid)
    return _detail(request, payment, RefundForm(payment=payment))


@workspace_view(perms.BILLING_CHARGE)
@require_http_methods(["GET", "POST"])
def payment_refund_view(request: PortalRequest, payment_uuid):
    """The refund form, its confirmation step, then the refund."""
    payment = _payment(request, payment_uuid)
    form = RefundForm(request.POST if request.method == "POST" else None, payment=payment)
    if request.method != "POST" or not form.is_valid():
        return _detail(request, payment, form, refund_open=True)
    data = form.cleaned_data
    if not data["confirmed"]:
        question = f"Refund {format_amount(data['minor'], payment.currency)} to the customer?"
        return _detail(request, payment, form, refund_open=True, confirm=question)
    try:
        refund = payment_refund(payment=payment, amount=data["minor"], reason=form.reason_text,
                                user=request.user, attempt=data["attempt"],
                                address=audit_by(request)["address"])  # fmt: skip
    except ValidationError as error:
        _add_errors(form, error)
        return _detail(request, payment, form, refund_open=True)
    except GatewayError as error:  # retryable: the same attempt completes the same refund
        form.add_error(None, f"{error.message} Try again: the refund will not be made twice.")
        return _detail(request, payment, form, refund_open=True)
    messages.success(request, f"Refunded {format_amount(refund.amount, payment.currency)}.")
    return redirect(payment)


def _add_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)
