"""Charging a customer: off-session with a saved card, or a new card confirmed by Stripe.js."""

from __future__ import annotations

import time
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from billing.models import Payment
from billing.services.ledger import (
    FINAL,
    payment_apply_intent,
    payment_fail,
    payment_log,
    payment_start,
)
from integrations.gateway.customers import customer_create
from integrations.gateway.errors import CONFLICT, GatewayError
from integrations.gateway.payments import (
    payment_intent_create,
    payment_intent_retrieve,
    payment_intents_recent,
)
from integrations.gateway.rate_limit import visitor_calls
from integrations.selectors import connection_credentials, default_connection
from portal.models import Contact
from portal.money import check_chargeable, format_amount
from portal.ratelimit import RateLimit
from portal.services import contact_save

# A second charge of the same amount to the same customer this soon is most likely the same
# payment sent again from a page restored by Back (with a fresh form token): it needs the
# person to say it is meant.
REPEAT_WINDOW = timedelta(minutes=10)
REPEAT_STATUSES = (Payment.Status.SUCCEEDED, Payment.Status.PROCESSING)


class RepeatCharge(ValidationError):
    """The same amount was charged to this customer moments ago by another attempt."""

    def __init__(self, earlier: Payment):
        when = timezone.localtime(earlier.created_at).strftime("%H:%M")
        super().__init__(
            f"{format_amount(earlier.amount, earlier.currency)} was charged to "
            f"{earlier.contact.name if earlier.contact else 'this customer'} at {when}. "
            "If you mean to charge the same amount again, tick “Yes, charge again”.",
            code="repeat",
        )
        self.earlier = earlier


def repeat_check(
    *, workspace, contact, amount: int, currency: str, idempotency_key: str, allow_repeat: bool
) -> None:
    """Refuse a new attempt that repeats a charge made moments ago, unless `allow_repeat`.

    The attempt's own earlier row (the same form token sent again) is not a repeat: it
    answers with its first result."""
    if allow_repeat or contact is None:
        return
    same_attempt = Payment.objects.filter(workspace=workspace, idempotency_key=idempotency_key)
    if same_attempt.exists():
        return
    earlier = (
        Payment.objects.filter(
            workspace=workspace,
            contact=contact,
            amount=amount,
            currency=currency.lower(),
            status__in=REPEAT_STATUSES,
            created_at__gte=timezone.now() - REPEAT_WINDOW,
        )
        .select_related("contact")
        .first()
    )
    if earlier is not None:
        raise RepeatCharge(earlier)


class ChargeError(Exception):
    """A charge Stripe refused; `message` is Stripe's reason in plain words."""

    def __init__(self, payment: Payment, error: GatewayError):
        super().__init__(error.message)
        self.payment, self.error = payment, error
        self.code = error.decline_code or error.stripe_code or error.code

    @property
    def needs_customer(self) -> bool:
        """Authentication required: only the customer can complete it (send a payment link)."""
        return self.code in ("authentication_required", "card_declined_authentication_required")


def usable_connection(workspace):
    connection = default_connection(workspace)
    if connection is None or connection.health not in ("ok", "unknown"):
        raise ValidationError(
            "Payments are not set up for this workspace: connect a working Stripe account first."
        )
    return connection


def charge_off_session(
    *,
    workspace,
    connection,
    contact,
    customer_id: str,
    payment_method_id: str,
    amount: int,
    currency: str,
    description: str,
    idempotency_key: str,
    source: str,
    origin: str = "",
    user=None,
    appointments=(),
    payment_method_types: tuple[str, ...] = (),
    actor=None,
    address: str | None = None,
) -> Payment:
    """Charge a saved payment method now, without the customer: the one way the portal
    charges off-session (card on file, an invoice payer's card or verified bank account, a
    workflow step). `payment_method_types` names a non-card method (("us_bank_account",) for
    ACH, which ends processing until Stripe settles it). One ledger row per idempotency key:
    calling this again with the same key returns the same payment and charges nothing more.

    Raises ChargeError for a decline (recorded as failed), GatewayError for a retryable
    failure (the row stays pending; call again with the same key). After a 5xx the intent is
    looked up by the row and adopted if it was made; if not, the next call sends a new key
    derived from the row (see _after_server_error).

    `actor` (default `user`; a workflow's name) and `address` are who charged, for the audit
    trail, written with the row.
    """
    check_chargeable(amount, currency)
    payment = payment_start(
        idempotency_key=idempotency_key,
        appointments=appointments,
        actor=actor,
        address=address,
        defaults={
            "workspace": workspace,
            "connection": connection,
            "contact": contact,
            "source": source,
            "origin": origin,
            "started_by": user,
            "amount": amount,
            "currency": currency.lower(),
            "description": description,
            "stripe_customer_id": customer_id,
            "payment_method_id": payment_method_id,
        },
    )
    if payment.status in FINAL or payment.status == Payment.Status.PROCESSING:
        return payment  # this attempt already went through
    earlier = _intent_made_before_keys_expired(payment, connection)
    if earlier is None and _server_error_unresolved(payment):
        # Made since? Else the same key is sent again: Stripe replays its saved answer, or
        # executes a request that never began (see _after_server_error).
        earlier = _intent_made_for(payment, connection)  # raises while Stripe cannot say
    if earlier is not None:
        return payment_apply_intent(payment=payment, intent=earlier, via="api")
    for wait in (0.5, 1.0, 2.0, None):
        try:
            intent = payment_intent_create(
                connection_credentials(connection),
                amount=payment.amount,
                currency=payment.currency,
                customer=customer_id,
                payment_method=payment_method_id,
                description=description,
                confirm=True,
                off_session=True,
                metadata={"portal_payment": str(payment.uuid), "portal_origin": origin},
                idempotency_key=_current_key(payment),
                **(
                    {"payment_method_types": list(payment_method_types)}
                    if payment_method_types
                    else {}
                ),
            )
            break
        except GatewayError as error:
            if error.code == CONFLICT and wait is not None:
                time.sleep(wait)  # the same attempt is in flight elsewhere: take its answer
                continue
            if _is_server_error(error):
                adopted = _after_server_error(payment, connection, error)
                if adopted is not None:
                    return adopted
                if wait is None:
                    raise
                continue  # the old key's execution is over and made nothing: send anew
            if error.retryable or error.code == CONFLICT:
                # The outcome is unknown (no answer, or the same request still in flight):
                # the row stays pending and a retry with the same key gets Stripe's answer.
                payment_log(payment, "retry", f"{error.code}: {error.message}")
                raise
            code = error.decline_code or error.stripe_code or error.code
            payment_fail(
                payment=payment, code=code, message=error.message, intent_id=error.payment_intent_id
            )
            raise ChargeError(payment, error) from None
    return payment_apply_intent(payment=payment, intent=intent, via="api")


def _method_types(types: tuple[str, ...]) -> dict:
    """Cards are Stripe's default: a card charge's request names no method types."""
    return {"payment_method_types": list(types)} if types else {}


# A 5xx from Stripe is saved under its idempotency key once execution began, and replayed to
# every retry with that key: the same key can never learn whether the intent was made. So the
# attempt looks for it by our row (metadata portal_payment), adopts it when it exists and
# otherwise moves to a new key, "<row key>:attempt:<n>". PaymentEvents remember where it
# stands ("server_error" until resolved, one "new_key" per new key), across workers.
SERVER_ERROR, NEW_KEY = "server_error", "new_key"


def _is_server_error(error: GatewayError) -> bool:
    return error.http_status is not None and error.http_status >= 500


def _current_key(payment: Payment) -> str:
    moved = payment.events.filter(kind=NEW_KEY).count()
    return (
        payment.idempotency_key if not moved else f"{payment.idempotency_key}:attempt:{moved + 1}"
    )


def _server_error_unresolved(payment: Payment) -> bool:
    last = payment.events.filter(kind__in=(SERVER_ERROR, NEW_KEY)).order_by("-pk").first()
    return last is not None and last.kind == SERVER_ERROR


def _new_key(payment: Payment) -> None:
    payment_log(payment, NEW_KEY, f"Stripe made no PaymentIntent under {_current_key(payment)}")


def _after_server_error(payment: Payment, connection, error: GatewayError) -> Payment | None:
    """Stripe answered 5xx: adopt the intent if it was made; None when the next try may go
    at once under a new key; else re-raise (retryable).

    Only a *replayed* 5xx moves the next try to a new key: it proves the execution under the
    key is over, so a look-up after it that finds nothing means nothing was made. A fresh 5xx
    proves no such thing (another request with the key, a lost answer's, may still be
    executing), so the key is kept and sent again, until Stripe answers or replays."""
    payment_log(payment, SERVER_ERROR, f"{error.code}: {error.message} ({_current_key(payment)})")
    made = _intent_made_for(payment, connection)  # a failing look-up leaves it unresolved
    if made is not None:
        return payment_apply_intent(payment=payment, intent=made, via="api")
    if error.replayed:
        _new_key(payment)
        return None
    raise error


def _intent_made_for(payment: Payment, connection):
    """The PaymentIntent any attempt of `payment` made, found by its metadata, or None."""
    since = int(payment.created_at.timestamp()) - 60
    for listed in payment_intents_recent(connection_credentials(connection), created_gte=since):
        if listed.metadata.get("portal_payment") == str(payment.uuid):
            return listed.intent
    return None


# Stripe keeps idempotency keys for 24 hours; an attempt older than this may have charged
# under a key Stripe has forgotten, so its intent is looked up by our row before any retry.
KEY_MEMORY = timedelta(hours=23)


def _intent_made_before_keys_expired(payment: Payment, connection):
    """The PaymentIntent an old pending attempt already created, found by its metadata."""
    if payment.created_at > timezone.now() - KEY_MEMORY:
        return None
    return _intent_made_for(payment, connection)


def charge_card_on_file(
    *,
    workspace,
    contact,
    payment_method_id: str,
    amount: int,
    currency: str,
    description: str,
    user,
    attempt,
    allow_repeat: bool = True,
    actor=None,
    address: str | None = None,
) -> Payment:
    """Staff charge a contact's saved card. `attempt` is the charge form's own token: a double
    click or a resubmitted form is the same attempt, the same row and the same Stripe key.
    A new attempt repeating a charge made moments ago raises RepeatCharge when the page says
    a repeat was not meant (`allow_repeat` False)."""
    if not contact.stripe_customer_id:
        raise ValidationError("This contact has no Stripe customer, so no card on file.")
    repeat_check(
        workspace=workspace,
        contact=contact,
        amount=amount,
        currency=currency,
        idempotency_key=f"payment:{attempt}:intent",
        allow_repeat=allow_repeat,
    )
    return charge_off_session(
        workspace=workspace,
        connection=usable_connection(workspace),
        contact=contact,
        customer_id=contact.stripe_customer_id,
        payment_method_id=payment_method_id,
        amount=amount,
        currency=currency,
        description=description,
        idempotency_key=f"payment:{attempt}:intent",
        source=Payment.Source.CARD_ON_FILE,
        user=user,
        actor=actor,
        address=address,
    )


def contact_customer_key(*, contact, account_id: str) -> str:
    """The idempotency key that creates the contact's customer on `account_id`: the same for
    a double click, new once the last one was deleted (Stripe would replay the deleted one)."""
    key = f"contact:{contact.uuid}:customer:{account_id}"
    generation = contact.stripe_customer_generation
    return f"{key}:generation:{generation}" if generation else key  # keys made before: kept


def contact_customer_ensure(*, contact, connection) -> str:
    """The contact's Stripe customer, created (once per generation, see
    contact_customer_key) if missing."""
    if contact.stripe_customer_id:
        return contact.stripe_customer_id
    # The generation as stored now: the caller's copy may predate a deletion.
    stored = Contact.objects.filter(pk=contact.pk).values_list("stripe_customer_generation")
    contact.stripe_customer_generation = stored.get()[0]
    customer = customer_create(
        connection_credentials(connection),
        name=contact.name,
        email=contact.email,
        idempotency_key=contact_customer_key(contact=contact, account_id=connection.account_id),
        metadata={"portal_contact": str(contact.uuid)},
    )
    contact_save(workspace=contact.workspace, contact=contact, stripe_customer_id=customer.id)
    return customer.id


def new_card_payment_start(
    *,
    workspace,
    contact,
    amount: int,
    currency: str,
    description: str,
    user,
    attempt,
    source=Payment.Source.NEW_CARD,
    idempotency_key: str = "",
    appointments=(),
    customer_id: str = "",
    allow_repeat: bool = True,
    actor=None,
    address: str | None = None,
) -> tuple[Payment, str]:
    """A PaymentIntent the page confirms with Stripe.js (card data never reaches us).

    Returns the ledger row and the intent's client secret. The same attempt returns the same
    intent. "Save this card" is the page's `setup_future_usage` at confirmation: Stripe then
    attaches the card to the customer (the intent's parameters never change). The customer
    is `customer_id` (an invoice payer's) or the contact's own, created if missing.

    Staff's new-card charges (source NEW_CARD) repeating a charge made moments ago raise
    RepeatCharge when the page says a repeat was not meant (`allow_repeat` False).
    `actor` (default `user`) and `address` are who charged, for the audit trail.
    """
    check_chargeable(amount, currency)
    key = idempotency_key or f"payment:{attempt}:intent"
    if source == Payment.Source.NEW_CARD:
        repeat_check(
            workspace=workspace,
            contact=contact,
            amount=amount,
            currency=currency,
            idempotency_key=key,
            allow_repeat=allow_repeat,
        )
    connection = usable_connection(workspace)
    customer_id = customer_id or contact_customer_ensure(contact=contact, connection=connection)
    payment = payment_start(
        idempotency_key=key,
        appointments=appointments,
        actor=actor,
        address=address,
        defaults={
            "workspace": workspace,
            "connection": connection,
            "contact": contact,
            "source": source,
            "started_by": user,
            "amount": amount,
            "currency": currency.lower(),
            "description": description,
            "stripe_customer_id": customer_id,
        },
    )
    intent = _intent_for_page(
        payment,
        connection,
        customer=customer_id,
        receipt_email=contact.email if customer_id == contact.stripe_customer_id else "",
    )
    if not payment.stripe_payment_intent_id:
        with transaction.atomic():
            Payment.objects.filter(pk=payment.pk).update(stripe_payment_intent_id=intent.id)
        payment.stripe_payment_intent_id = intent.id
    return payment, intent.client_secret


def _intent_for_page(payment: Payment, connection, *, customer: str, receipt_email: str):
    """The PaymentIntent a page confirms for `payment`: created under the row's key, or, after
    a 5xx that Stripe replays for that key, the one found by our row (or made under a new key,
    as charge_off_session does)."""
    if _server_error_unresolved(payment):
        made = _intent_made_for(payment, connection)  # raises while Stripe cannot say
        if made is not None:
            return made
    for last in (False, True):
        try:
            return payment_intent_create(
                connection_credentials(connection),
                amount=payment.amount,
                currency=payment.currency,
                customer=customer,
                description=payment.description,
                receipt_email=receipt_email,
                metadata={"portal_payment": str(payment.uuid)},
                idempotency_key=_current_key(payment),
            )
        except GatewayError as error:
            if not _is_server_error(error):
                raise
            payment_log(payment, SERVER_ERROR, f"{error.code}: {error.message}")
            made = _intent_made_for(payment, connection)
            if made is not None:
                return made
            if not error.replayed or last:
                raise
            _new_key(payment)  # the key's execution is over and made nothing: send anew
    raise AssertionError("unreachable")  # the loop returns or raises


def payment_refresh(*, payment: Payment, via: str = "return page") -> Payment:
    """Ask Stripe how the payment stands (after Stripe.js confirmed it in the browser)."""
    if not payment.stripe_payment_intent_id or payment.connection is None:
        return payment
    intent = payment_intent_retrieve(
        connection_credentials(payment.connection),
        payment_intent_id=payment.stripe_payment_intent_id,
    )
    return payment_apply_intent(payment=payment, intent=intent, via=via)


# Pages anyone (or any payer) can load ask Stripe how a payment stands at most once per few
# seconds per payment, whoever loads them, and each address only so often; in between the
# ledger answers. A flood of reloads then costs a handful of Stripe calls, not one each.
REFRESH_PER_PAYMENT = RateLimit("payment-refresh", limit=1, window=3)
REFRESH_PER_ADDRESS = RateLimit("payment-refresh-address", limit=10, window=10 * 60)


def visitor_may_ask_stripe(*, payment: Payment, address: str) -> bool:
    """Whether a page loaded by a visitor from `address` may ask Stripe about `payment` now
    (counted when it may): never for a row in FINAL, whose state Stripe can no longer change."""
    if payment.status in FINAL:
        return False
    if REFRESH_PER_ADDRESS.used_up(address) or REFRESH_PER_PAYMENT.hit(str(payment.pk)):
        return False
    REFRESH_PER_ADDRESS.hit(address)
    return True


@visitor_calls()
def payment_refresh_for_visitor(*, payment: Payment, address: str) -> Payment:
    """`payment_refresh` for the page a customer's browser returns to after Stripe.js: asks
    Stripe only when `visitor_may_ask_stripe`, else returns the row as the ledger has it
    (the webhook brings what Stripe knows meanwhile). Its calls leave the reserve of the
    account's rate limit to staff and workflows. Raises GatewayError as payment_refresh does."""
    if not payment.stripe_payment_intent_id or payment.connection is None:
        return payment
    if not visitor_may_ask_stripe(payment=payment, address=address):
        return payment
    return payment_refresh(payment=payment)
