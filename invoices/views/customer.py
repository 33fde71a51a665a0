"""The customer page: a contact with its bookings, payments, links, saved cards and invoices.

It lives in `invoices`, the highest app, because it reads every app below: a contact is the
portal's, its bookings automation's, its payments and cards billing's. The page answers at
the contact's own URL (`contact_detail`), so every link to a contact opens it. Each section
shows to the members whose permissions show it elsewhere: payments and links to
billing=charge or stripe=read, saved cards likewise, invoices to invoices=manage.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from automation.models import Appointment
from automation.selectors import appointment_payment
from billing.models import PaymentLink
from billing.selectors import saved_cards
from portal import perms
from portal.access import PortalRequest, workspace_view

BOOKINGS_SHOWN = 100
PAYMENTS_SHOWN = 50
CLAIMS_SHOWN = 20


def _can(granted: frozenset[str]) -> dict[str, bool]:
    """Which sections and buttons this member gets."""
    money = perms.BILLING_CHARGE in granted or perms.STRIPE_READ in granted
    return {
        "money": money,
        "cards": money,
        "remove_cards": perms.BILLING_CHARGE in granted,
        "charge": perms.BILLING_CHARGE in granted,
        "invoices": perms.INVOICES_MANAGE in granted,
        "bookings_page": perms.WORKFLOW_EDIT in granted,
        "edit": perms.CONTACTS_EDIT in granted,
    }


@workspace_view(perms.CONTACTS_VIEW)
@require_GET
def contact_detail(request: PortalRequest, contact_uuid):
    workspace = request.workspace
    contact = get_object_or_404(workspace.contacts, uuid=contact_uuid)
    can = _can(request.workspace_perms)
    bookings = (
        Appointment.objects.filter(workspace=workspace, contact=contact)
        .select_related("calendar")
        .prefetch_related("payments")
        .order_by("-starts_at", "-id")[:BOOKINGS_SHOWN]
    )
    context = {
        "contact": contact,
        "can": can,
        # The latest BOOKINGS_SHOWN, read in date order.
        "bookings": [(a, appointment_payment(a)) for a in reversed(bookings)],
        # What public forms said about this contact: kept on each submission, never copied
        # over what staff know (anyone can type anyone's e-mail).
        "submissions": contact.submissions.select_related("form")[:CLAIMS_SHOWN],
    }
    if can["money"]:
        context["payments"] = workspace.payments.filter(contact=contact).prefetch_related(
            "refunds"
        )[:PAYMENTS_SHOWN]
        context["links"] = workspace.payment_links.filter(
            contact=contact, status=PaymentLink.Status.OPEN
        ).order_by("expires_at", "id")
    if can["cards"]:
        context["cards"], context["cards_problem"] = saved_cards(contact)
    if can["invoices"]:
        context["invoices"] = workspace.invoices.filter(contact=contact)
    return render(request, "invoices/customer.html", context)
