"""The hosted payment page (public, no login): `/pay/<token>/`, its intent, return and success.

Card data goes from the customer's browser to Stripe (Stripe.js); we only hand out the
link's PaymentIntent client secret, and ask Stripe how it stands when the customer returns
(the webhook tells us too, whichever comes first). Anyone can load these pages, so what they
ask of Stripe is bounded per link and per address, and a settled payment is answered from the
ledger alone (billing.services.charges.visitor_may_ask_stripe).
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from billing.models import Payment, PaymentLink
from billing.services.charges import payment_refresh_for_visitor
from billing.services.links import payment_link_checkout, payment_link_expire
from integrations.errors import GatewayError
from integrations.stripe_js import stripe_js_csp
from portal.money import locale_activate
from portal.ratelimit import RateLimit, client_address

TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")  # secrets.token_urlsafe, as PaymentLink makes them
# 10 intent requests per client address in 10 minutes, and 20 per link whoever sends them:
# each one asks Stripe for the link's intent again.
INTENT_RATE = RateLimit("pay-rate", limit=10, window=10 * 60)
INTENT_LINK_RATE = RateLimit("pay-rate-link", limit=20, window=10 * 60)
CLOSED = {
    "paid": "This payment link has been paid already.",
    "cancelled": "This payment link was cancelled: no payment is needed.",
    "expired": "This payment link has expired. Ask for a new one.",
}


def _link(token: str) -> PaymentLink:
    if not TOKEN.fullmatch(token):  # never a token we made; some (NUL) PostgreSQL cannot query
        raise Http404("No such payment link.")
    links = PaymentLink.objects.select_related("workspace", "contact", "connection", "payment")
    link = get_object_or_404(links, token=token)
    locale_activate(link.workspace.locale)  # the customer reads amounts as the business writes
    return link


def _link_closing(request: HttpRequest, token: str) -> PaymentLink:
    """The link; if it expired with an intent a page could still confirm, that intent is
    canceled first (or, paid meanwhile, recorded: the link then shows Paid)."""
    link = _link(token)
    if link.is_expired:
        link = _link(payment_link_expire(link=link, address=client_address(request)).token)
    return link


def _state(link: PaymentLink) -> str:
    if link.status == PaymentLink.Status.PAID:
        return "paid"
    if link.status == PaymentLink.Status.CANCELLED:
        return "cancelled"
    return "expired" if link.is_expired else "open"


@stripe_js_csp
@require_GET
def public_pay(request: HttpRequest, token: str):
    link = _link_closing(request, token)
    context = {"link": link, "state": _state(link), "stripe_js_url": settings.STRIPE_JS_URL}
    context["bookings"] = link.appointments.select_related("calendar").order_by("starts_at")
    payment = link.payment
    if payment is not None and payment.status == Payment.Status.PROCESSING:
        context["processing"] = True
    return render(request, "billing/public/pay.html", context)


@stripe_js_csp
@require_POST
def public_pay_intent(request: HttpRequest, token: str):
    """The client secret of the link's one PaymentIntent (JSON), for Stripe.js to confirm."""
    if INTENT_RATE.hit(client_address(request)):
        message = "Too many payment attempts from your connection. Please wait ten minutes."
        return JsonResponse({"error": message}, status=429)
    link = _link_closing(request, token)
    if not link.payable:
        message = CLOSED[_state(link)]
        return JsonResponse({"error": message, "closed": True})
    if INTENT_LINK_RATE.hit(str(link.pk)):
        message = "This payment link is being tried too often. Please wait ten minutes."
        return JsonResponse({"error": message}, status=429)
    try:
        _, secret = payment_link_checkout(link=link)
    except (ValidationError, ValueError) as error:
        message = error.messages[0] if isinstance(error, ValidationError) else str(error)
        return JsonResponse({"error": message}, status=400)
    except GatewayError:
        message = "The payment service did not answer. Please try again in a moment."
        return JsonResponse({"error": message}, status=502)
    return JsonResponse({"client_secret": secret})


@stripe_js_csp
@require_GET
def public_pay_return(request: HttpRequest, token: str):
    """Where Stripe.js sends the customer after confirming: ask Stripe (at most as often as
    visitors may), then say how it went."""
    link = _link(token)
    if link.payment is not None:
        try:
            payment_refresh_for_visitor(payment=link.payment, address=client_address(request))
        except GatewayError:
            pass  # the page shows the state we know; the webhook will tell us the rest
    link.refresh_from_db()
    if link.status == PaymentLink.Status.PAID:
        return redirect("public_pay_done", token)
    return redirect("public_pay", token)


@stripe_js_csp
@require_GET
def public_pay_done(request: HttpRequest, token: str):
    link = _link(token)
    if link.status != PaymentLink.Status.PAID:
        return redirect("public_pay", token)
    context = {"link": link, "payment": link.payment}
    context["bookings"] = link.appointments.select_related("calendar").order_by("starts_at")
    return render(request, "billing/public/done.html", context)
