"""Removing a Stripe connection and adding the same account again keeps what Stripe keeps:
the payer's customer there and the bank accounts Stripe verified for it (nobody waits for
microdeposits twice); a customer that merely claims to be the payer's is not adopted."""

from __future__ import annotations

import pytest

from integrations.services import connection_create_from_key, connection_remove
from invoices.banks import bank_account_add, bank_account_verify, bank_accounts_for
from invoices.models import BankAccount, PayerProfile
from invoices.payments import invoice_pay_bank, payer_customer

pytestmark = pytest.mark.django_db


def _add_bank(payer, connection, account_number="000123456789"):
    return bank_account_add(
        payer=payer,
        connection=connection,
        holder_name="Pat Payer",
        routing_number="110000000",
        account_number=account_number,
    )


def _again(connection):
    """The connection removed, then the same account added again with the same keys."""
    workspace, secret, publishable = (
        connection.workspace,
        connection.secret_key,
        connection.publishable_key,
    )
    connection_remove(connection=connection)
    return connection_create_from_key(
        workspace=workspace, secret_key=secret, publishable_key=publishable
    )


def test_a_verified_bank_account_is_usable_again_after_the_account_is_added_again(
    work_item, payer, sandbox, connection
):
    verified = bank_account_verify(bank=_add_bank(payer, connection), amounts=(32, 45))
    _add_bank(payer, connection, "000111111116")  # never verified
    customer = payer_customer(user=payer, connection=connection)

    again = _again(connection)
    assert not BankAccount.objects.exists()  # the rows went with the old connection

    (bank,) = bank_accounts_for(payer=payer, connection=again)
    assert (bank.status, bank.last4) == ("verified", "6789")
    assert bank.payment_method_id == verified.payment_method_id
    assert payer_customer(user=payer, connection=again) == customer
    result = invoice_pay_bank(work_item=work_item, payer=payer, amount=5000, bank=bank)
    assert result.attempt.status == "processing"
    assert bank_accounts_for(payer=payer, connection=again) == [bank]  # restored once


def test_a_customer_with_the_payers_number_but_another_email_is_not_adopted(
    payer, sandbox, connection
):
    customer = payer_customer(user=payer, connection=connection)
    client = sandbox.client(connection.secret_key)
    client.v1.customers.delete(customer)
    client.v1.customers.create(
        params={"email": "mallory@example.test", "metadata": {"portal_user": str(payer.pk)}}
    )

    again = _again(connection)

    assert bank_accounts_for(payer=payer, connection=again) == []
    profile = PayerProfile.objects.get(user=payer, connection=again)
    assert profile.stripe_customer_id == ""
