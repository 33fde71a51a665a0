"""US bank accounts (ACH Direct Debit) verified with microdeposits."""

from __future__ import annotations

from dataclasses import dataclass

from integrations.gateway.client import Credentials, make_client
from integrations.gateway.errors import translate_errors


@dataclass(frozen=True)
class BankSetup:
    setup_intent_id: str
    payment_method_id: str
    status: str  # requires_action (awaiting microdeposits) or succeeded
    bank_name: str
    last4: str


def _setup(obj: dict, client) -> BankSetup:
    method = obj.get("payment_method") or ""
    method_id = method["id"] if isinstance(method, dict) else method
    bank = {}
    if method_id:
        bank = (
            client.v1.payment_methods.retrieve(method_id).to_dict().get("us_bank_account")
        ) or {}
    return BankSetup(
        obj["id"],
        method_id,
        obj.get("status") or "",
        bank.get("bank_name") or "",
        bank.get("last4") or "",
    )


def bank_account_setup(
    credentials: Credentials,
    *,
    customer: str,
    holder_name: str,
    routing_number: str,
    account_number: str,
    ip_address: str,
    user_agent: str,
    idempotency_key: str,
) -> BankSetup:
    """Start verifying a bank account with microdeposits (the mandate accepted online)."""
    client = make_client(credentials)
    params = {
        "customer": customer,
        "payment_method_types": ["us_bank_account"],
        "payment_method_options": {"us_bank_account": {"verification_method": "microdeposits"}},
        "payment_method_data": {
            "type": "us_bank_account",
            "us_bank_account": {
                "routing_number": routing_number,
                "account_number": account_number,
                "account_holder_type": "individual",
            },
            "billing_details": {"name": holder_name},
        },
        "mandate_data": {
            "customer_acceptance": {
                "type": "online",
                "online": {"ip_address": ip_address, "user_agent": user_agent},
            }
        },
        "confirm": True,
    }
    with translate_errors(credentials):
        obj = client.v1.setup_intents.create(
            params=params, options={"idempotency_key": idempotency_key}
        ).to_dict()
        return _setup(obj, client)


def bank_accounts_attached(credentials: Credentials, *, customer: str) -> list[BankSetup]:
    """The customer's verified US bank accounts: Stripe attaches a bank account to the
    customer when its SetupIntent succeeds (microdeposits verified), not before."""
    with translate_errors(credentials):
        listing = make_client(credentials).v1.payment_methods.list(
            params={"customer": customer, "type": "us_bank_account", "limit": 100}
        )
    found = []
    for method in (item.to_dict() for item in listing.data):
        bank = method.get("us_bank_account") or {}
        found.append(
            BankSetup(
                "", method["id"], "succeeded", bank.get("bank_name") or "", bank.get("last4") or ""
            )
        )
    return found


def bank_account_verify(
    credentials: Credentials, *, setup_intent_id: str, amounts=None, descriptor_code: str = ""
) -> str:
    """The SetupIntent's status after the payer's verification ("succeeded" when verified)."""
    params = {"amounts": list(amounts)} if amounts else {"descriptor_code": descriptor_code}
    with translate_errors(credentials):
        obj = make_client(credentials).v1.setup_intents.verify_microdeposits(
            setup_intent_id, params=params
        )
    return obj.to_dict().get("status") or ""
