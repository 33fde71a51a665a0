"""Who may act on which work item."""

from __future__ import annotations

from django.db.models import Q

from integrations.gateway.customers import Card, cards_list
from integrations.models import StripeConnection
from integrations.selectors import connection_credentials
from invoices.models import PayerProfile, ScopeType, WorkItem
from portal import perms
from portal.models import Membership
from portal.permissions import workspace_permissions


def _ancestor_paths(path: str) -> list[str]:
    parts = path.strip("/").split("/")
    return ["/" + "/".join(parts[: i + 1]) for i in range(len(parts))]


def work_items_for(user, workspace):
    """The work items the user is assigned: `stripe=pay`, the item's role, and membership of
    its org unit (UNIT: exactly that unit; TREE: that unit or one below it)."""
    none = WorkItem.objects.none()
    if perms.STRIPE_PAY not in workspace_permissions(user, workspace):
        return none
    membership = (
        Membership.objects.filter(user=user, workspace=workspace).select_related("org_unit").first()
    )
    if membership is None or membership.org_unit is None:
        return none
    unit = membership.org_unit
    in_scope = Q(scope_type=ScopeType.UNIT, org_unit=unit) | Q(
        scope_type=ScopeType.TREE, org_unit__path__in=_ancestor_paths(unit.path)
    )
    # No DISTINCT: the roles are a subquery and the org unit a foreign key, so no row repeats,
    # and a DISTINCT would sort every open item before the page is cut. Nor the workspace
    # joined: SQLite then reads it first and sorts every open item too (callers have it).
    return WorkItem.objects.filter(
        in_scope, workspace=workspace, role__in=membership.roles.all()
    ).select_related("invoice__contact", "org_unit", "role")


def work_item_payers(item: WorkItem) -> list:
    """The users `work_items_for` gives `item`: members of its org unit (UNIT: exactly it;
    TREE: it or a unit below it) holding its role and `stripe=pay`; those with an address,
    by address."""
    unit = item.org_unit
    memberships = Membership.objects.filter(workspace=item.workspace_id, roles=item.role_id)
    if item.scope_type == ScopeType.TREE:
        memberships = memberships.filter(
            Q(org_unit__path=unit.path) | Q(org_unit__path__startswith=unit.path + "/")
        )
    else:
        memberships = memberships.filter(org_unit=unit)
    users = {m.user for m in memberships.select_related("user") if m.user.is_active}
    payers = (
        u for u in users if u.email and perms.STRIPE_PAY in workspace_permissions(u, item.workspace)
    )
    return sorted(payers, key=lambda user: user.email)


def payer_cards_list(profile: PayerProfile | None, connection: StripeConnection) -> list[Card]:
    """The payer's saved cards on the connection's account, default first (none before the
    payer's first payment made them a Stripe customer). GatewayError if Stripe refuses."""
    if profile is None or not profile.stripe_customer_id:
        return []
    return cards_list(connection_credentials(connection), customer_id=profile.stripe_customer_id)
