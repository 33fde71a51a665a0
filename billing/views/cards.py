"""Remove a contact's saved card: a confirmation page, then the POST that detaches it."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from billing.selectors import saved_cards
from billing.services.cards import CardNotFound, contact_card_remove
from integrations.errors import GatewayError
from portal import perms
from portal.access import PortalRequest, workspace_view
from portal.audit import audit_by


@workspace_view(perms.BILLING_CHARGE)
@require_http_methods(["GET", "POST"])
def contact_card_remove_view(request: PortalRequest, contact_uuid, payment_method_id: str):
    """GET asks (404 unless the card is the contact's); POST detaches it from the contact's
    Stripe customer. Pressed twice, the second POST says it is gone already."""
    contact = get_object_or_404(request.workspace.contacts, uuid=contact_uuid)
    if request.method == "POST":
        try:
            card = contact_card_remove(
                workspace=request.workspace,
                contact=contact,
                payment_method_id=payment_method_id,
                **audit_by(request),
            )
        except CardNotFound as error:
            raise Http404(str(error)) from error
        except GatewayError as error:
            messages.error(request, f"Stripe could not remove the card: {error.message}")
            return redirect("contact_card_remove", request.workspace.slug, contact.uuid,
                            payment_method_id)  # fmt: skip
        if card is None:
            messages.info(request, "That card was removed already.")
        else:
            label = f"{card.brand.title()} •••• {card.last4}"
            messages.success(request, f"{label} removed: it can no longer be charged.")
        return redirect(contact)
    if not contact.stripe_customer_id:
        raise Http404("This contact has no saved cards.")
    cards, problem = saved_cards(contact)  # a problem (Stripe unreachable) is shown
    card = next((c for c in cards if c.id == payment_method_id), None)
    if card is None and not problem:
        raise Http404("This contact has no such saved card.")
    return render(
        request,
        "billing/cards/remove.html",
        {"contact": contact, "card": card, "problem": problem},
    )
