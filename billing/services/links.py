"""Payment links: e-mailed to the customer, paid on the hosted page `/pay/<token>/`.

A closed link (cancelled or expired) takes no money: the one PaymentIntent of a link is
canceled in Stripe when it closes, since a page opened earlier holds its client secret and
could otherwise still confirm it.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from billing.models import Payment, PaymentLink
from billing.services.charges import (
    new_card_payment_start,
    usable_connection,
    visitor_may_ask_stripe,
)
from billing.services.ledger import FORM_EXPIRED, payment_apply_intent
from integrations.gateway.errors import GatewayError
from integrations.gateway.payments import payment_intent_cancel, payment_intent_retrieve
from integrations.gateway.rate_limit import visitor_calls
from integrations.selectors import connection_credentials
from portal.audit import audit_record
from portal.emails import Email, customer_zone, email_render, email_send
from portal.models import AuditEntry
from portal.money import check_chargeable, format_amount

logger = logging.getLogger(__name__)

DEFAULT_EXPIRY = timedelta(days=7)

# A link's payment in these states has an intent the customer's page can still confirm.
LIVE = (
    Payment.Status.PENDING,
    Payment.Status.REQUIRES_ACTION,
    Payment.Status.FAILED,  # declined: the page may try another card on the same intent
)


# An open link for the same customer and amount made this recently is most likely the same
# request sent again from a page restored by Back: a second one must be meant.
REPEAT_WINDOW = timedelta(minutes=10)


def _refuse_repeat(workspace, contact, amount: int, currency: str) -> None:
    earlier = PaymentLink.objects.filter(
        workspace=workspace,
        contact=contact,
        amount=amount,
        currency=currency,
        status=PaymentLink.Status.OPEN,
        created_at__gte=timezone.now() - REPEAT_WINDOW,
    ).first()
    if earlier is not None:
        when = timezone.localtime(earlier.created_at).strftime("%H:%M")
        raise ValidationError(
            {
                "repeat": f"A link for {format_amount(amount, currency)} was made for "
                f"{contact.name} at {when} and is still open. If you mean to send a "
                "second one, tick “Yes, send another link”."
            },  # fmt: skip
            code="repeat",
        )


def payment_link_create(
    *,
    workspace,
    contact,
    amount: int,
    currency: str,
    description: str,
    appointments=(),
    expires_in: timedelta = DEFAULT_EXPIRY,
    user=None,
    origin: str = "",
    attempt: uuid.UUID | None = None,
    allow_repeat: bool = True,
    actor=None,
    address: str | None = None,
) -> PaymentLink:
    """A link for the contact; the bookings included are marked Charged in Full when paid.

    `attempt` is the staff form's token: the form posted again returns the link it made and
    makes nothing more. The same token with another contact or other terms is refused. A new
    token asking for the same amount as an open link made moments ago (a form fetched again
    by Back) raises ValidationError {"repeat": ...} unless `allow_repeat`. `actor` (default
    `user`; a workflow's name) and `address` are who made it, for the audit trail."""
    check_chargeable(amount, currency)
    if not contact.email:
        raise ValidationError("The contact has no e-mail address to send the link to.")
    for appointment in appointments:
        if appointment.workspace_id != workspace.pk or appointment.contact_id != contact.pk:
            raise ValidationError("A booking of another customer cannot be included.")
    terms = (contact.pk, amount, currency.lower())
    if attempt is not None and (made := _link_of_attempt(workspace, attempt, terms)):
        return made
    if not allow_repeat:
        _refuse_repeat(workspace, contact, amount, currency.lower())
    try:
        with transaction.atomic():
            link = PaymentLink.objects.create(
                workspace=workspace,
                connection=usable_connection(workspace),
                contact=contact,
                amount=amount,
                currency=currency.lower(),
                description=description,
                expires_at=timezone.now() + expires_in,
                created_by=user,
                origin=origin,
                attempt=attempt,
            )
            link.appointments.set(appointments)
            amount_text = format_amount(link.amount, link.currency)
            _audit(
                link,
                AuditEntry.Action.LINK_CREATE,
                f"Payment link of {amount_text} for {contact.name}",
                actor=actor if actor is not None else user,
                address=address,
                changes={
                    "amount": {"before": None, "after": amount_text},
                    "customer": {"before": None, "after": contact.name},
                    "description": {"before": None, "after": description},
                    "status": {"before": None, "after": link.status},
                },
            )
    except IntegrityError:  # the same form posted twice at the same moment
        made = _link_of_attempt(workspace, attempt, terms) if attempt is not None else None
        if made is None:
            raise
        return made
    return link


def _audit(link: PaymentLink, action: str, summary: str, *, actor, address, changes) -> None:
    """An entry naming the link by its amount and customer (never its token: the link)."""
    audit_record(
        workspace=link.workspace,
        actor=actor,
        address=address,
        action=action,
        summary=summary,
        changes=changes,
        obj=link,
        label=f"{format_amount(link.amount, link.currency)} for {link.contact.name}",
    )


def _link_of_attempt(workspace, attempt, terms: tuple) -> PaymentLink | None:
    link = PaymentLink.objects.filter(workspace=workspace, attempt=attempt).first()
    if link is not None and (link.contact_id, link.amount, link.currency) != terms:
        raise ValidationError(FORM_EXPIRED)
    return link


def payment_link_email(link: PaymentLink) -> Email:
    """The link's e-mail, HTML and text: what the preview shows is what is sent. Its times
    are the customer's: the bookings' calendar's zone, else the workspace's."""
    bookings = list(link.appointments.select_related("calendar").order_by("starts_at", "id"))
    amount = format_amount(link.amount, link.currency, locale=link.workspace.locale)
    context = {
        "link": link,
        "url": settings.SITE_URL + link.get_absolute_url(),
        "amount": amount,
        "bookings": bookings,
    }
    return email_render(
        "payment_link",
        context,
        subject=f"{link.workspace.name}: payment request of {amount}",
        workspace=link.workspace,
        zone=customer_zone(link.workspace, bookings),
    )


class LinkAlreadySent(ValidationError):
    """The link was sent since the sender's page showed it: this request is a repeat."""


def payment_link_send(
    *, link: PaymentLink, sent_count: int, actor=None, address: str | None = None
) -> PaymentLink:
    """E-mail the link (again); refused for a paid, cancelled or expired link.

    `sent_count` is how many times the sender saw the link sent (the page's button carries
    it): the e-mail goes only if that is still so, and raises LinkAlreadySent otherwise, so a
    double click or a repeated POST sends once while a deliberate "Re-send" sends again.
    `actor` and `address` are who sent it, for the audit trail."""
    if not link.payable:
        raise ValidationError("This link can no longer be paid, so it is not sent.")
    email = payment_link_email(link)
    # The claim and the e-mail succeed or fail together: a mail server error undoes the
    # claim, so the button can be pressed again.
    with transaction.atomic():
        claimed = PaymentLink.objects.filter(pk=link.pk, sent_count=sent_count).update(
            sent_at=timezone.now(), sent_count=F("sent_count") + 1
        )
        if not claimed:
            raise LinkAlreadySent("The e-mail was sent already.")
        again = " again" if sent_count else ""
        _audit(
            link,
            AuditEntry.Action.LINK_SEND,
            f"Payment link of {format_amount(link.amount, link.currency)} sent{again} to "
            f"{link.contact.email}",
            actor=actor,
            address=address,
            changes={"times sent": {"before": sent_count, "after": sent_count + 1}},
        )
        email_send(email, to=[link.contact.email])
    link.refresh_from_db()
    return link


PAID_MEANWHILE = "The customer had already paid; the link is now Paid."


def payment_link_cancel(
    *, link: PaymentLink, actor=None, address: str | None = None
) -> PaymentLink:
    """Cancel the link so that it takes no money. Its PaymentIntent (a page the customer still
    has open holds its client secret) is canceled in Stripe first; if Stripe says the customer
    paid already, that payment is recorded and the link returned Paid, never Cancelled.

    Raises ValidationError when the link is paid or its payment cannot be stopped (it is
    processing), GatewayError when Stripe did not answer: either way the link stays open.
    `actor` and `address` are who cancelled it, for the audit trail."""
    if link.status == PaymentLink.Status.PAID:
        raise ValidationError("This link is paid already; refund the payment instead.")
    link = _intent_close(link=link, via="link cancelled")
    if link.status == PaymentLink.Status.PAID:
        return link
    with transaction.atomic():
        locked = PaymentLink.objects.select_for_update().get(pk=link.pk)
        if locked.status != PaymentLink.Status.OPEN:
            return locked  # paid (the webhook) or cancelled by someone else meanwhile
        locked.status = PaymentLink.Status.CANCELLED
        locked.save(update_fields=["status"])
        _audit(
            locked,
            AuditEntry.Action.LINK_CANCEL,
            f"Payment link of {format_amount(locked.amount, locked.currency)} for "
            f"{locked.contact.name} cancelled",
            actor=actor,
            address=address,
            changes={"status": {"before": PaymentLink.Status.OPEN, "after": locked.status}},
        )
    if locked.payment_id != link.payment_id:
        # The customer's page made the intent after we looked; now that the link is closed
        # the checkout sees it too, but cancel here as well rather than rely on one side.
        locked = _intent_close(link=locked, via="link cancelled", strict=False)
    return locked


def payment_links_expire(*, connection=None) -> int:
    """Cancel in Stripe the PaymentIntents of expired links (of `connection`, or all) that
    could still be paid; one that was paid meanwhile is recorded, its link becoming Paid.
    Returns how many links were closed either way. Errors are logged and left for the next
    pass: the link is expired for the portal whatever Stripe says."""
    links = PaymentLink.objects.filter(
        status=PaymentLink.Status.OPEN,
        expires_at__lte=timezone.now(),
        payment__stripe_payment_intent_id__gt="",
        payment__status__in=LIVE,
    ).select_related("payment__connection")
    if connection is not None:
        links = links.filter(payment__connection=connection)
    closed = 0
    for link in links:
        try:
            link = _intent_close(link=link, via="link expired")
        except (GatewayError, ValidationError) as error:
            logger.warning("expired link %s: %s", link.uuid, getattr(error, "message", error))
            continue
        closed += 1
    return closed


@visitor_calls()
def payment_link_expire(*, link: PaymentLink, address: str) -> PaymentLink:
    """The same for one link, when its page is opened (from `address`) after it expired; the
    page asks Stripe as often as `visitor_may_ask_stripe` allows, and the schedule does the
    rest."""
    if not link.is_expired or link.payment is None or link.payment.status not in LIVE:
        return link
    if not visitor_may_ask_stripe(payment=link.payment, address=address):
        return link
    try:
        return _intent_close(link=link, via="link expired")
    except (GatewayError, ValidationError):
        return link  # the page says it expired; the next pass of the schedule retries


def _intent_close(*, link: PaymentLink, via: str, strict: bool = True) -> PaymentLink:
    """Cancel the link's PaymentIntent in Stripe and record what Stripe says of it. Returns
    the link as it is after (Paid if the intent had succeeded). With `strict`, raises when the
    intent is still payable afterwards (processing, or Stripe did not cancel it)."""
    payment = Payment.objects.filter(link=link).select_related("connection").first()
    if payment is None or payment.status not in LIVE or not payment.stripe_payment_intent_id:
        return PaymentLink.objects.get(pk=link.pk)
    credentials = connection_credentials(payment.connection)
    try:
        intent = payment_intent_cancel(
            credentials,
            payment_intent_id=payment.stripe_payment_intent_id,
            idempotency_key=f"{payment.idempotency_key}:cancel",
        )
    except GatewayError:  # succeeded or processing meanwhile (or no answer): ask what it is
        intent = payment_intent_retrieve(
            credentials, payment_intent_id=payment.stripe_payment_intent_id
        )
    payment = payment_apply_intent(payment=payment, intent=intent, via=via)
    if strict and payment.status == Payment.Status.PROCESSING:
        raise ValidationError(
            "The customer's payment is being processed, so the link cannot be closed now."
        )
    if strict and payment.status in LIVE:
        raise ValidationError("Stripe did not cancel the link's payment; try again.")
    return PaymentLink.objects.get(pk=link.pk)


@visitor_calls()
def payment_link_checkout(*, link: PaymentLink) -> tuple[Payment, str]:
    """The payment the hosted page confirms with Stripe.js: one PaymentIntent per link, so
    a customer retrying after a decline, or opening the page twice, pays once. Its Stripe
    calls are a visitor's: they leave the rate limit's reserve to staff and workflows."""
    if not link.payable:
        raise ValidationError("This link can no longer be paid.")
    payment, secret = new_card_payment_start(
        workspace=link.workspace,
        contact=link.contact,
        amount=link.amount,
        currency=link.currency,
        description=link.description,
        user=None,
        attempt=None,
        source=Payment.Source.PAYMENT_LINK,
        idempotency_key=f"paylink:{link.token}:intent",
        appointments=list(link.appointments.all()),
    )
    if link.payment_id is None:
        PaymentLink.objects.filter(pk=link.pk, payment__isnull=True).update(payment=payment)
        link.payment = payment
    # Cancelled (or expired) while the intent was being made: the cancel may have looked
    # before the intent existed, so close it here and hand out no secret.
    current = PaymentLink.objects.get(pk=link.pk)
    if not current.payable:
        try:
            _intent_close(link=current, via="link closed", strict=False)
        except GatewayError:
            logger.warning("closed link %s: its intent could not be canceled", link.uuid)
        raise ValidationError("This link can no longer be paid.")
    return payment, secret


def payment_link_for_step(
    *,
    workspace,
    contact,
    amount: int,
    currency: str,
    description: str,
    origin: str,
    appointments=(),
    actor=None,
) -> PaymentLink:
    """The link a workflow step sends, once per step of a run (`origin`), however often the
    step is retried. `actor` is the workflow, as the audit trail names it."""
    link = PaymentLink.objects.filter(workspace=workspace, origin=origin).first()
    if link is None:
        link = payment_link_create(
            workspace=workspace,
            contact=contact,
            amount=amount,
            currency=currency,
            description=description,
            origin=origin,
            appointments=appointments,
            actor=actor,
        )
    if not link.sent_count:
        try:
            link = payment_link_send(link=link, sent_count=0, actor=actor)
        except LinkAlreadySent:
            pass  # the same step retried at the same moment sent it
    return link
