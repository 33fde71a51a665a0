"""Payers' US bank accounts: added, verified with two microdeposits, then used to pay."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

from integrations.gateway import banks as gateway
from integrations.gateway.errors import GatewayError
from integrations.selectors import connection_credentials
from integrations.services import connection_account_ensure
from invoices.models import BankAccount, PayerProfile
from invoices.payments import payer_customer, payer_profile_restore

LOCKED = "payment_method_microdeposit_verification_attempts_exceeded"


def ach_available(connection) -> bool:
    """ACH needs a US account taking usd (the seed: a US bank account on the Stripe side)."""
    connection_account_ensure(connection=connection)
    return connection.country == "US" and connection.default_currency.lower() == "usd"


def bank_accounts_for(*, payer, connection) -> list[BankAccount]:
    """The payer's bank accounts on this connection (found again in Stripe if the account was
    connected before)."""
    payer_profile_restore(user=payer, connection=connection)
    return list(
        BankAccount.objects.filter(payer__user=payer, payer__connection=connection).order_by(
            "-created_at"
        )
    )


def bank_account_add(
    *,
    payer,
    connection,
    holder_name: str,
    routing_number: str,
    account_number: str,
    ip_address: str = "127.0.0.1",
    user_agent: str = "Agency Portal",
) -> BankAccount:
    """Send the account to Stripe; Stripe then sends two small deposits to verify it."""
    routing, number = routing_number.strip(), account_number.strip()
    if not re.fullmatch(r"\d{9}", routing):
        raise ValidationError({"routing_number": "A routing number has 9 digits."})
    if not re.fullmatch(r"\d{4,17}", number):
        raise ValidationError({"account_number": "An account number has 4 to 17 digits."})
    if not holder_name.strip():
        raise ValidationError({"holder_name": "Enter the account holder's name."})
    customer = payer_customer(user=payer, connection=connection)
    profile = PayerProfile.objects.get(user=payer, connection=connection)
    count = profile.bank_accounts.count()
    try:
        setup = gateway.bank_account_setup(
            connection_credentials(connection),
            customer=customer,
            holder_name=holder_name.strip(),
            routing_number=routing,
            account_number=number,
            ip_address=ip_address,
            user_agent=user_agent[:200],
            idempotency_key=f"payer:{profile.pk}:bank:{count + 1}:{routing}:{number[-4:]}",
        )
    except GatewayError as error:
        raise ValidationError({"account_number": error.message}) from None
    status = (
        BankAccount.Status.VERIFIED if setup.status == "succeeded" else BankAccount.Status.PENDING
    )
    return BankAccount.objects.create(
        payer=profile,
        setup_intent_id=setup.setup_intent_id,
        payment_method_id=setup.payment_method_id,
        bank_name=setup.bank_name,
        last4=setup.last4 or number[-4:],
        status=status,
    )


def bank_account_verify(
    *, bank: BankAccount, amounts: tuple[int, int] | None = None, descriptor_code: str = ""
) -> BankAccount:
    """Check the two deposit amounts (cents) or the descriptor code with Stripe."""
    if bank.status != BankAccount.Status.PENDING:
        raise ValidationError(f"This bank account is {bank.get_status_display().lower()}.")
    if not amounts and not descriptor_code.strip():
        raise ValidationError("Enter the two deposit amounts, or the code of the deposit.")
    try:
        status = _verify(bank, amounts, descriptor_code.strip().upper())
    except GatewayError as error:
        if error.stripe_code == LOCKED:
            bank.status, bank.last_error = BankAccount.Status.FAILED, error.message[:500]
            bank.save(update_fields=["status", "last_error"])
            raise ValidationError(
                "Verification failed too many times: contact your bank, then add the account again."
            ) from None
        bank.last_error = error.message[:500]
        bank.save(update_fields=["last_error"])
        raise ValidationError(error.message) from None
    if status == "succeeded":
        bank.status, bank.last_error = BankAccount.Status.VERIFIED, ""
        bank.save(update_fields=["status", "last_error"])
    return bank


def _verify(bank: BankAccount, amounts, descriptor_code: str) -> str:
    return gateway.bank_account_verify(
        connection_credentials(bank.payer.connection),
        setup_intent_id=bank.setup_intent_id,
        amounts=amounts,
        descriptor_code=descriptor_code,
    )
