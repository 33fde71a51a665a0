"""A contact's saved cards: removing one (Stripe's detach), checked and audited."""

from __future__ import annotations

from integrations.errors import NOT_FOUND, GatewayError
from integrations.gateway.customers import Card, payment_method_detach
from integrations.selectors import connection_credentials, default_connection
from portal.audit import audit_record
from portal.models import AuditEntry

CARD_REMOVE = AuditEntry.Action.CARD_REMOVE


class CardNotFound(Exception):
    """The contact's Stripe customer has no such saved card (nothing was detached)."""


def contact_card_remove(
    *, workspace, contact, payment_method_id: str, actor, address: str | None
) -> Card | None:
    """Detach a saved card from the contact's Stripe customer; the card removed, or None when
    it was already removed (pressed twice: nothing to do, nothing recorded).

    A card that is not this customer's (another customer's, another account's, none) raises
    `CardNotFound` and nothing is detached. A Stripe error that is not an answer about the card
    (unreachable, rate limited, key rejected) reaches the caller as `GatewayError`."""
    connection = default_connection(workspace)
    if connection is None or not contact.stripe_customer_id or contact.workspace_id != workspace.pk:
        raise CardNotFound("This contact has no saved cards.")
    try:
        card = payment_method_detach(
            connection_credentials(connection),
            customer_id=contact.stripe_customer_id,
            payment_method_id=payment_method_id,
        )
    except GatewayError as error:
        if error.code == NOT_FOUND:
            raise CardNotFound("This contact has no such saved card.") from error
        raise
    if card is not None:
        named = f"{card.brand.title()} •••• {card.last4}"
        audit_record(
            workspace=workspace,
            actor=actor,
            address=address,
            action=CARD_REMOVE,
            summary=f"Removed the saved card {named} of {contact.name}",
            changes={"payment_method": {"before": payment_method_id, "after": None}},
            obj=contact,
            label=contact.name,
        )
    return card
