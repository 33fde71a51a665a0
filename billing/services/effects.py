"""What happens once when a payment succeeds: bookings charged, the link paid, e-mails,
and the "payment link paid" trigger. Called inside the transaction that records success.

E-mails go out after the commit and are "robust": a mail server failing never undoes or
repeats the recording of a payment."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from automation.models import Appointment
from automation.services.runs import runs_start_for_trigger
from billing.models import IntentMismatch, Payment, PaymentLink
from portal import perms
from portal.emails import customer_zone, email_render, email_send, email_send_each
from portal.models import Membership
from portal.money import format_amount
from portal.permissions import workspace_permissions


def payment_succeeded(payment: Payment) -> None:
    payment.appointments.update(payment_status=Appointment.PaymentStatus.CHARGED_IN_FULL)
    link = PaymentLink.objects.filter(payment=payment).select_related("contact").first()
    if link is not None:
        PaymentLink.objects.filter(pk=link.pk).update(
            status=PaymentLink.Status.PAID, paid_at=timezone.now()
        )
        link.appointments.update(payment_status=Appointment.PaymentStatus.CHARGED_IN_FULL)
        runs_start_for_trigger(
            workspace=payment.workspace,
            trigger_type="payment_link_paid",
            trigger=_link_trigger(link, payment),
            cause=f"payment_link_paid:{link.uuid}",
            contact=link.contact,
        )
        transaction.on_commit(lambda: _receipt_email(payment.pk), robust=True)
    if payment.source in (Payment.Source.PAYMENT_LINK, Payment.Source.NEW_CARD):
        transaction.on_commit(lambda: _admin_email(payment.pk), robust=True)


def _link_trigger(link: PaymentLink, payment: Payment) -> dict:
    return {
        "type": "payment_link_paid",
        "payment_link": {"id": str(link.uuid), "description": link.description},
        "payment": {
            "id": str(payment.uuid),
            "amount": payment.amount,
            "currency": payment.currency,
            "payment_intent": payment.stripe_payment_intent_id,
            "charge": payment.stripe_charge_id,
        },
    }


def administrators(workspace) -> list:
    """The workspace's owners (those who manage it) who have an e-mail address, by address."""
    memberships = Membership.objects.filter(workspace=workspace).select_related("user")
    owners = (
        m.user
        for m in memberships
        if m.user.email and perms.WORKSPACE_MANAGE in workspace_permissions(m.user, workspace)
    )
    return sorted(owners, key=lambda user: user.email)


def _bookings(payment: Payment) -> list:
    """The payment's bookings in date order, oldest first (as a customer reads a list)."""
    return list(payment.appointments.select_related("calendar").order_by("starts_at", "id"))


def _admin_email(payment_pk: int) -> None:
    payment = Payment.objects.select_related("workspace", "contact").get(pk=payment_pk)
    workspace = payment.workspace
    if not workspace.notify_admins_of_payments:
        return
    recipients = administrators(workspace)
    if not recipients:
        return
    amount = format_amount(payment.amount, payment.currency, locale=workspace.locale)
    who = payment.contact.name if payment.contact else "A customer"
    context = {
        "payment": payment,
        "amount": amount,
        "who": who,
        "bookings": _bookings(payment),
        "url": settings.SITE_URL + payment.get_absolute_url(),
        "settings_url": settings.SITE_URL + reverse("workspace_settings", args=[workspace.slug]),
    }
    # One message per owner, at their own clock (else the workspace's), the zone named.
    email_send_each(
        "admin_paid", context, subject=f"{who} paid {amount}", workspace=workspace, users=recipients
    )


def _receipt_email(payment_pk: int) -> None:
    payment = Payment.objects.select_related("workspace", "contact").get(pk=payment_pk)
    if not (payment.contact and payment.contact.email):
        return
    bookings = _bookings(payment)
    context = {
        "payment": payment,
        "amount": format_amount(payment.amount, payment.currency, locale=payment.workspace.locale),
        "bookings": bookings,
    }
    email = email_render(
        "receipt",
        context,
        subject=f"Your receipt from {payment.workspace.name}",
        workspace=payment.workspace,
        zone=customer_zone(payment.workspace, bookings),
    )
    email_send(email, to=[payment.contact.email])


def intent_mismatch_notify(mismatch_pk: int) -> None:
    """Tell the owners of a PaymentIntent that named a payment without matching it (after the
    commit that recorded it, so once per intent however often Stripe repeats it)."""
    mismatch = IntentMismatch.objects.select_related("workspace", "payment").get(pk=mismatch_pk)
    recipients = administrators(mismatch.workspace)
    if not recipients:
        return
    workspace = mismatch.workspace
    # Two currencies side by side read with their ISO codes (portal.money).
    iso = (mismatch.currency or "").lower() != mismatch.payment.currency.lower()
    context = {
        "mismatch": mismatch,
        "payment": mismatch.payment,
        "intent_amount": format_amount(
            mismatch.amount, mismatch.currency, iso=iso, locale=workspace.locale
        ),
        "payment_amount": format_amount(
            mismatch.payment.amount, mismatch.payment.currency, iso=iso, locale=workspace.locale
        ),
        "payment_url": settings.SITE_URL + mismatch.payment.get_absolute_url(),
        "url": settings.SITE_URL + reverse("reconciliation_list", args=[workspace.slug]),
    }
    email_send_each(
        "intent_mismatch",
        context,
        subject="A Stripe payment did not match the ledger",
        workspace=workspace,
        users=recipients,
    )
