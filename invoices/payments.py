"""An invoice payer pays (part of) an invoice from a work item: card or verified bank account.

The amount is checked against the outstanding balance and reserved under the invoice's row
lock before Stripe is called, so concurrent payers can never together pay more than is owed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone

from billing.models import Payment
from billing.services.charges import (
    ChargeError,
    charge_off_session,
    new_card_payment_start,
    usable_connection,
)
from billing.services.ledger import payment_start
from integrations.gateway.banks import bank_accounts_attached
from integrations.gateway.customers import cards_list, customer_create, customers_with_metadata
from integrations.gateway.errors import VALIDATION_ERROR, GatewayError
from integrations.selectors import connection_credentials
from invoices.models import BankAccount, Invoice, InvoicePayment, PayerProfile, WorkItem
from invoices.services import PAYABLE
from invoices.settlement import reserved
from portal.money import check_chargeable, format_amount

# A new-card payment the payer has not confirmed after this long is canceled in Stripe (see
# invoices.abandoned); until then, and until Stripe has canceled it, it holds its amount.
RESERVATION_TTL = timedelta(minutes=30)


def available_to_pay(invoice: Invoice) -> int:
    """The outstanding balance less what payments under way hold."""
    return max(invoice.total - invoice.amount_paid - reserved(invoice), 0)


def payer_profile_restore(*, user, connection) -> PayerProfile | None:
    """The payer's profile on this connection, made the first time it is needed.

    When the same Stripe account was connected before (removed, then added again), the
    payer's customer there is found again, by the metadata and e-mail the portal gave it,
    with the bank accounts Stripe verified for it: nobody verifies a bank account twice.
    None if Stripe could not be asked (the next page asks again)."""
    profile = PayerProfile.objects.filter(user=user, connection=connection).first()
    if profile is not None:
        return profile
    email = (user.email or "").strip().lower()
    credentials = connection_credentials(connection)
    try:
        found = customers_with_metadata(credentials, key="portal_user", value=str(user.pk))
        # The e-mail too: another portal using the same account numbers its users alike.
        customer = next((c for c in found if email and c.email.lower() == email), None)
        banks = bank_accounts_attached(credentials, customer=customer.id) if customer else []
    except GatewayError:
        return None
    with transaction.atomic():
        profile, created = PayerProfile.objects.get_or_create(
            user=user,
            connection=connection,
            defaults={"stripe_customer_id": customer.id if customer else ""},
        )
        if created:
            BankAccount.objects.bulk_create(
                BankAccount(
                    payer=profile,
                    setup_intent_id=bank.setup_intent_id,
                    payment_method_id=bank.payment_method_id,
                    bank_name=bank.bank_name,
                    last4=bank.last4,
                    status=BankAccount.Status.VERIFIED,
                )
                for bank in banks
            )
    return profile


def payer_customer(*, user, connection) -> str:
    """The payer's own Stripe customer on this account (their saved cards and banks)."""
    profile = payer_profile_restore(user=user, connection=connection)
    if profile is not None and profile.stripe_customer_id:
        return profile.stripe_customer_id
    generation = profile.customer_generation if profile is not None else 0
    key = f"payer:{user.pk}:{connection.account_id}:customer"
    customer = customer_create(
        connection_credentials(connection),
        name=user.get_full_name() or user.get_username(),
        email=user.email,
        idempotency_key=f"{key}:generation:{generation}" if generation else key,
        metadata={"portal_user": str(user.pk)},
    )
    profile, created = PayerProfile.objects.get_or_create(
        user=user, connection=connection, defaults={"stripe_customer_id": customer.id}
    )
    if not created and not profile.stripe_customer_id:
        PayerProfile.objects.filter(pk=profile.pk, stripe_customer_id="").update(
            stripe_customer_id=customer.id
        )
        profile.refresh_from_db()
    return profile.stripe_customer_id


def payer_customers_forget(*, connection, customer_id: str) -> int:
    """A payer's customer deleted in Stripe: its profile forgets it (and the bank accounts,
    which went with it), so the next payment makes a new customer instead of failing."""
    profiles = PayerProfile.objects.filter(connection=connection, stripe_customer_id=customer_id)
    BankAccount.objects.filter(payer__in=profiles).delete()
    return profiles.update(stripe_customer_id="", customer_generation=F("customer_generation") + 1)


@dataclass
class PayResult:
    attempt: InvoicePayment
    client_secret: str = ""  # a new card: the page confirms it with Stripe.js
    repeated: bool = False  # the form was sent before: this is its first result


# The same payer paying the same amount on the same work item this soon is most likely the
# pay form sent again from a page restored by Back (with a fresh token): it must be meant.
REPEAT_WINDOW = timedelta(minutes=10)


def _reserve(
    *,
    work_item: WorkItem,
    payer,
    amount: int,
    method: str,
    token,
    allow_repeat: bool = False,
    address: str | None = None,
) -> tuple[InvoicePayment, bool]:
    """(the attempt, whether it already existed): the form's token makes a resubmission the
    same attempt, answered with its first result."""
    if amount <= 0:
        raise ValidationError({"amount": "Enter an amount greater than zero."})
    token = token or uuid.uuid4()  # a call from code, not a form: one attempt
    existing = InvoicePayment.objects.filter(uuid=token, work_item=work_item).first()
    if existing is not None:
        if existing.payer_id != payer.pk or existing.amount != amount:
            raise ValidationError("This form was already used; reload the page.")
        return existing, True
    try:
        attempt = _reserve_new(
            work_item=work_item, payer=payer, amount=amount, method=method, token=token,
            allow_repeat=allow_repeat, address=address,
        )  # fmt: skip
    except IntegrityError:  # the same form submitted twice at the same moment
        same = InvoicePayment.objects.filter(uuid=token, work_item=work_item, payer=payer).first()
        if same is None or same.amount != amount:  # someone else's attempt: not this payer's
            raise ValidationError("This form was already used; reload the page.") from None
        return same, True
    return attempt, False


def _refuse_repeat(item: WorkItem, payer, amount: int, currency: str) -> None:
    earlier = item.attempts.filter(
        payer=payer,
        amount=amount,
        status__in=(InvoicePayment.Status.SUCCEEDED, InvoicePayment.Status.PROCESSING),
        created_at__gte=timezone.now() - REPEAT_WINDOW,
    ).first()
    if earlier is not None:
        when = timezone.localtime(earlier.created_at).strftime("%H:%M")
        raise ValidationError(
            {"repeat": f"You paid {format_amount(amount, currency)} on this invoice at {when}. "
                       "If you mean to pay the same amount again, tick “Yes, pay again”."},
            code="repeat",
        )  # fmt: skip


def _reserve_new(
    *, work_item, payer, amount, method, token, allow_repeat, address
) -> InvoicePayment:
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=work_item.invoice_id)
        item = WorkItem.objects.get(pk=work_item.pk)
        if item.status != WorkItem.Status.OPEN or invoice.status not in PAYABLE:
            raise ValidationError("This invoice is not waiting for a payment any more.")
        available = available_to_pay(invoice)
        if amount > available:
            maximum = format_amount(available, invoice.currency)
            raise ValidationError({"amount": f"The most you can pay now is {maximum}."})
        if not allow_repeat:
            _refuse_repeat(item, payer, amount, invoice.currency)
        number = (item.attempts.aggregate(n=Max("number"))["n"] or 0) + 1
        attempt = InvoicePayment.objects.create(
            invoice=invoice,
            work_item=item,
            number=number,
            payer=payer,
            method=method,
            amount=amount,
            uuid=token,
        )
        payment = payment_start(
            idempotency_key=attempt.idempotency_key,
            actor=payer,
            address=address,
            defaults={
                "workspace": invoice.workspace,
                "connection": usable_connection(invoice.workspace),
                "contact": invoice.contact,
                "source": Payment.Source.INVOICE,
                "started_by": payer,
                "origin": f"invoice:{invoice.uuid}",
                "amount": amount,
                "currency": invoice.currency,
                "description": f"{invoice.display_number} ({invoice.workspace.name})",
            },
        )
        attempt.payment = payment
        attempt.save(update_fields=["payment"])
    return attempt


def invoice_pay_card(
    *,
    work_item: WorkItem,
    payer,
    amount: int,
    payment_method_id: str = "",
    attempt=None,
    allow_repeat: bool = True,
    address: str | None = None,
) -> PayResult:
    """Pay with a saved card now (`payment_method_id`), or start a new-card payment that the
    page confirms with Stripe.js (no `payment_method_id`: the result has a client secret).
    The payer's `address` goes to the audit trail with the attempt's payment."""
    check_chargeable(amount, work_item.invoice.currency)
    connection = usable_connection(work_item.workspace)
    customer = payer_customer(user=payer, connection=connection)
    if payment_method_id and payment_method_id not in {
        c.id for c in cards_list(connection_credentials(connection), customer_id=customer)
    }:
        raise ValidationError({"payment_method": "Choose one of your saved cards."})
    attempt, repeated = _reserve(
        work_item=work_item, payer=payer, amount=amount, method="card", token=attempt,
        allow_repeat=allow_repeat, address=address,
    )  # fmt: skip
    if attempt.status != InvoicePayment.Status.PENDING:
        return PayResult(attempt, repeated=repeated)  # charged (or refused) the first time
    payment = attempt.payment
    if not payment_method_id:
        _, secret = new_card_payment_start(
            workspace=payment.workspace,
            contact=payment.contact,
            amount=amount,
            currency=payment.currency,
            description=payment.description,
            user=payer,
            attempt=None,
            source=Payment.Source.INVOICE,
            idempotency_key=payment.idempotency_key,
            customer_id=customer,
        )
        return PayResult(attempt, secret)
    _charge_saved(payment, connection, customer, payment_method_id, payer, "card")
    attempt.refresh_from_db()
    return PayResult(attempt)


def invoice_pay_bank(
    *,
    work_item: WorkItem,
    payer,
    amount: int,
    bank: BankAccount,
    attempt=None,
    allow_repeat: bool = True,
    address: str | None = None,
) -> PayResult:
    """Pay by ACH debit from a verified bank account: processing until Stripe settles it.
    The payer's `address` goes to the audit trail with the attempt's payment."""
    connection = usable_connection(work_item.workspace)
    if bank.payer.user_id != payer.pk or bank.payer.connection_id != connection.pk:
        raise ValidationError({"bank_account": "Choose one of your bank accounts."})
    if bank.status != BankAccount.Status.VERIFIED:
        raise ValidationError({"bank_account": "Only a verified bank account can pay."})
    if work_item.invoice.currency != "usd":
        raise ValidationError("Bank account payments are only for invoices in USD.")
    check_chargeable(amount, "usd")
    attempt, repeated = _reserve(
        work_item=work_item, payer=payer, amount=amount, method="ach", token=attempt,
        allow_repeat=allow_repeat, address=address,
    )  # fmt: skip
    if attempt.status != InvoicePayment.Status.PENDING:
        return PayResult(attempt, repeated=repeated)
    payment = attempt.payment
    _charge_saved(
        payment, connection, bank.payer.stripe_customer_id, bank.payment_method_id, payer, "ach"
    )
    attempt.refresh_from_db()
    return PayResult(attempt)


# How a refusal reads, by method.
_REFUSED = {"card": "The card was declined", "ach": "The bank payment was refused"}


def _charge_saved(payment, connection, customer: str, method_id: str, payer, method: str) -> None:
    """Charge the attempt's payment with a saved card or verified bank account, through
    billing's one way to charge off-session. A refusal is a form error (a field's, when
    Stripe names the amount); a retryable failure reaches the caller with the row pending,
    so the same form sent again retries under the same key."""
    try:
        charge_off_session(
            workspace=payment.workspace,
            connection=connection,
            contact=payment.contact,
            customer_id=customer,
            payment_method_id=method_id,
            amount=payment.amount,
            currency=payment.currency,
            description=payment.description,
            idempotency_key=payment.idempotency_key,
            source=Payment.Source.INVOICE,
            origin=payment.origin,
            user=payer,
            payment_method_types=("us_bank_account",) if method == "ach" else (),
        )
    except ChargeError as refused:
        if refused.error.code == VALIDATION_ERROR:  # Stripe's check, e.g. a converted minimum
            field = "amount" if refused.error.param == "amount" else NON_FIELD_ERRORS
            raise ValidationError({field: refused.error.message}) from None
        raise ValidationError(f"{_REFUSED[method]}: {refused.error.message}") from None
