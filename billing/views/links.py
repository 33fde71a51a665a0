"""Payment links (staff): the list, one link with its e-mail preview, send / re-send, cancel."""

from __future__ import annotations

from csp.constants import NONE, SELF
from csp.decorators import csp, csp_replace
from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing.forms import LinkFilterForm
from billing.models import PaymentLink
from billing.selectors import links_filtered
from billing.services.ledger import FORM_EXPIRED
from billing.services.links import (
    PAID_MEANWHILE,
    LinkAlreadySent,
    payment_link_cancel,
    payment_link_email,
    payment_link_send,
)
from integrations.errors import GatewayError
from portal import perms
from portal.access import PortalRequest, workspace_view
from portal.audit import audit_by
from portal.pagination import paginate

# The preview's frame: the e-mail's own HTML with its inline styles and images; no scripts,
# forms or plugins (sandbox); links in a new tab; framed only by the portal's own page.
EMAIL_FRAME_POLICY = {
    "default-src": [NONE],
    "style-src": ["'unsafe-inline'"],
    "img-src": ["data:", "http:", "https:"],
    "frame-ancestors": [SELF],
    "sandbox": ["allow-popups", "allow-popups-to-escape-sandbox"],
}


def _link(request: PortalRequest, link_uuid):
    links = request.workspace.payment_links.select_related("contact", "workspace", "payment")
    return get_object_or_404(links, uuid=link_uuid)


@workspace_view(perms.BILLING_CHARGE)
@require_GET
def payment_link_list(request: PortalRequest):
    filters = LinkFilterForm(request.GET)
    status = filters.cleaned_data["status"] if filters.is_valid() else ""
    page = paginate(request, links_filtered(request.workspace, status))
    context = {"page": page, "filters": filters, "status": status}
    return render(request, "billing/links/list.html", context)


@workspace_view(perms.BILLING_CHARGE)
@require_GET
@csp_replace({"frame-src": [SELF]})  # the e-mail's frame, served by payment_link_email_html
def payment_link_detail(request: PortalRequest, link_uuid):
    """The link and its e-mail exactly as it is (or was) sent: step 1 before sending."""
    link = _link(request, link_uuid)
    context = {"link": link, "email": payment_link_email(link)}
    context["bookings"] = link.appointments.select_related("calendar")
    return render(request, "billing/links/detail.html", context)


@workspace_view(perms.BILLING_CHARGE)
@require_GET
@xframe_options_sameorigin
@csp(EMAIL_FRAME_POLICY)
def payment_link_email_html(request: PortalRequest, link_uuid):
    """The e-mail's HTML part as the customer's mail client gets it, for the preview's
    sandboxed frame: under a policy of its own (its inline styles, no scripts or forms)."""
    html = payment_link_email(_link(request, link_uuid)).html
    # Links open in a new tab: inside the frame the portal's pages refuse to be framed.
    response = HttpResponse(html.replace("<head>", '<head><base target="_blank">', 1))
    response["X-Content-Type-Options"] = "nosniff"
    return response


class LinkSendForm(forms.Form):
    """The send button's one field. (Here rather than in billing/forms.py only because that
    module was not this change's to edit; it belongs there.)"""

    # How many times the page showed the link sent: which send the button means. Without
    # it, the first (a POST from elsewhere than the page).
    sent_count = forms.IntegerField(min_value=0, required=False)


@workspace_view(perms.BILLING_CHARGE)
@require_POST
def payment_link_send_view(request: PortalRequest, link_uuid):
    """Send (step 2) or re-send the e-mail; the same button posted twice sends once."""
    link = _link(request, link_uuid)
    form = LinkSendForm(request.POST)
    if not form.is_valid():
        messages.error(request, FORM_EXPIRED)
        return redirect("payment_link_detail", request.workspace.slug, link.uuid)
    seen = form.cleaned_data["sent_count"] or 0
    try:
        link = payment_link_send(link=link, sent_count=seen, **audit_by(request))
    except LinkAlreadySent as repeat:
        messages.info(request, repeat.messages[0])
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        verb = "sent again" if seen else "sent"
        messages.success(request, f"Payment link {verb} to {link.contact.email}.")
    return redirect("payment_link_detail", request.workspace.slug, link.uuid)


@workspace_view(perms.BILLING_CHARGE)
@require_http_methods(["GET", "POST"])
def payment_link_cancel_view(request: PortalRequest, link_uuid):
    """A confirmation page; the POST cancels (the customer's page then takes no payment)."""
    link = _link(request, link_uuid)
    if request.method == "POST":
        try:
            link = payment_link_cancel(link=link, **audit_by(request))
        except ValidationError as error:
            messages.error(request, error.messages[0])
        except GatewayError:
            messages.error(request, "Stripe did not answer, so the link is still open: try again.")
        else:
            if link.status == PaymentLink.Status.PAID:
                messages.warning(request, PAID_MEANWHILE)
            else:
                messages.success(request, "Payment link cancelled: it can no longer be paid.")
        return redirect("payment_link_detail", request.workspace.slug, link.uuid)
    return render(request, "billing/links/cancel.html", {"link": link})
