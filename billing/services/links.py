"""Payment links: e-mailed to the customer, paid on the hosted page `/pay/<token>/`."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from billing.models import Payment, PaymentLink
from billing.services.charges import new_card_payment_start, usable_connection
from portal.money import check_chargeable, format_amount

DEFAULT_EXPIRY = timedelta(days=7)


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
) -> PaymentLink:
    """A link for the contact; the bookings included are marked Charged in Full when paid."""
    check_chargeable(amount, currency)
    if not contact.email:
        raise ValidationError("The contact has no e-mail address to send the link to.")
    for appointment in appointments:
        if appointment.workspace_id != workspace.pk or appointment.contact_id != contact.pk:
            raise ValidationError("A booking of another customer cannot be included.")
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
        )
        link.appointments.set(appointments)
    return link


def payment_link_email(link: PaymentLink) -> tuple[str, str]:
    """(subject, body) of the link's e-mail: what the preview shows is what is sent."""
    context = {
        "link": link,
        "url": settings.SITE_URL + link.get_absolute_url(),
        "amount": format_amount(link.amount, link.currency),
        "appointments": link.appointments.select_related("calendar"),
    }
    subject = f"{link.workspace.name}: payment request of {context['amount']}"
    return subject, render_to_string("billing/emails/payment_link.txt", context)


def payment_link_send(*, link: PaymentLink) -> PaymentLink:
    """E-mail the link (again); refused for a paid, cancelled or expired link."""
    if not link.payable:
        raise ValidationError("This link can no longer be paid, so it is not sent.")
    subject, body = payment_link_email(link)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [link.contact.email])
    PaymentLink.objects.filter(pk=link.pk).update(
        sent_at=timezone.now(), sent_count=link.sent_count + 1
    )
    link.refresh_from_db()
    return link


def payment_link_cancel(*, link: PaymentLink) -> PaymentLink:
    with transaction.atomic():
        locked = PaymentLink.objects.select_for_update().get(pk=link.pk)
        if locked.status == PaymentLink.Status.PAID:
            raise ValidationError("This link is paid already; refund the payment instead.")
        locked.status = PaymentLink.Status.CANCELLED
        locked.save(update_fields=["status"])
    return locked


def payment_link_checkout(*, link: PaymentLink) -> tuple[Payment, str]:
    """The payment the hosted page confirms with Stripe.js: one PaymentIntent per link, so
    a customer retrying after a decline, or opening the page twice, pays once."""
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
) -> PaymentLink:
    """The link a workflow step sends, once per step of a run (`origin`), however often the
    step is retried."""
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
        )
    if not link.sent_count:
        payment_link_send(link=link)
    return link
