"""Demo payments (part of `demo_data`): a charge by hand with a refund, and payment links.

Made through the services the staff pages call, each attempt under a token derived from the
demo's own rows (uuid5), so loading the demo again finds what it made and sends Stripe nothing
new; a step cut short by an error is finished by the next load under the same keys.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from billing.models import Payment, PaymentLink
from billing.services.charges import charge_card_on_file, payment_refresh
from billing.services.links import payment_link_checkout, payment_link_create, payment_link_send
from billing.services.refunds import payment_refund
from integrations.gateway.customers import cards_list
from integrations.selectors import connection_credentials

DEMO = uuid.UUID("0b7f5d2e-6c1a-4e8b-9a53-d3e0a0000001")


def demo_token(*parts: object) -> uuid.UUID:
    """The fixed token of a demo attempt, from the rows it is about."""
    return uuid.uuid5(DEMO, ":".join(str(part) for part in parts))


def demo_refunded_charge(
    *, workspace, connection, contact, user, amount: int, refund: int, description: str
) -> Payment:
    """Staff charge the contact's card on file, then refund part of it at the customer's
    request (Payments shows it partially refunded)."""
    attempt = demo_token("card-on-file", contact.uuid, description)
    payment = Payment.objects.filter(idempotency_key=f"payment:{attempt}:intent").first()
    if payment is None or payment.status == Payment.Status.PENDING:
        credentials = connection_credentials(connection)
        card = cards_list(credentials, customer_id=contact.stripe_customer_id)
        payment = charge_card_on_file(
            workspace=workspace,
            contact=contact,
            payment_method_id=card[0].id,
            amount=amount,
            currency="usd",
            description=description,
            user=user,
            attempt=attempt,
        )
    if payment.status == Payment.Status.SUCCEEDED and not payment.refunds.exists():
        payment_refund(
            payment=payment,
            amount=refund,
            reason="requested_by_customer",
            user=user,
            attempt=demo_token("refund", payment.uuid),
        )
        payment.refresh_from_db()
    return payment


def demo_link(*, workspace, contact, appointments, user, description: str) -> PaymentLink:
    """Staff send the contact a payment link for their bookings (e-mailed once)."""
    amount = sum(a.price_amount for a in appointments)
    link = payment_link_create(
        workspace=workspace,
        contact=contact,
        amount=amount,
        currency=appointments[0].price_currency,
        description=description,
        appointments=appointments,
        user=user,
        attempt=demo_token("link", contact.uuid, *(a.uuid for a in appointments)),
    )
    if not link.sent_count and link.payable:
        link = payment_link_send(link=link, sent_count=0, actor=user)
    return link


def demo_link_paid(*, link: PaymentLink, confirm: Callable[[str, str], None]) -> PaymentLink:
    """The customer pays the link on its hosted page: the page's PaymentIntent, confirmed with
    a card by `confirm(intent_id, client_secret)` (what Stripe.js does in their browser), then
    recorded as the return page records it."""
    link.refresh_from_db()
    if link.status != PaymentLink.Status.OPEN or not link.payable:
        return link
    payment, secret = payment_link_checkout(link=link)
    if payment.status != Payment.Status.SUCCEEDED:
        confirm(payment.stripe_payment_intent_id, secret)
        payment_refresh(payment=payment, via="return page")
    link.refresh_from_db()
    return link
