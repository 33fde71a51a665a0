"""The permission strings of the portal, in the short form the UI shows."""

from __future__ import annotations

STRIPE_VIEW = "stripe=view"
STRIPE_READ = "stripe=read"
STRIPE_PAY = "stripe=pay"
STRIPE_ALL = "stripe=*"
WORKFLOW_EDIT = "workflow=edit"
WORKFLOW_PUBLISH = "workflow=publish"
BILLING_CHARGE = "billing=charge"
INVOICES_MANAGE = "invoices=manage"
# Not in the product pages, which leave these open: someone manages members, roles and org
# units, and contacts hold personal data that not every role should read.
WORKSPACE_MANAGE = "workspace=manage"
CONTACTS_VIEW = "contacts=view"
CONTACTS_EDIT = "contacts=edit"

CHOICES: list[tuple[str, str]] = [
    (STRIPE_VIEW, "See the Stripe dashboard page"),
    (STRIPE_READ, "Read Stripe data: customers, charges"),
    (STRIPE_PAY, "Pay invoices"),
    (STRIPE_ALL, "Connect, edit and remove the Stripe account; add and delete customers"),
    (WORKFLOW_EDIT, "Build and edit workflows"),
    (WORKFLOW_PUBLISH, "Publish and unpublish workflows"),
    (BILLING_CHARGE, "Charge customers and refund payments"),
    (INVOICES_MANAGE, "Create, edit and process invoices"),
    (WORKSPACE_MANAGE, "Manage members, roles and org units"),
    (CONTACTS_VIEW, "See contacts"),
    (CONTACTS_EDIT, "Create and edit contacts"),
]
ALL: frozenset[str] = frozenset(code for code, _ in CHOICES)

# `stripe=*` grants every other stripe permission, as on the product pages.
IMPLIED: dict[str, frozenset[str]] = {
    STRIPE_ALL: frozenset({STRIPE_VIEW, STRIPE_READ, STRIPE_PAY}),
    CONTACTS_EDIT: frozenset({CONTACTS_VIEW}),
}

OWNER = "Owner"
STAFF = "Staff"
INVOICE_PAYER = "Invoice Payer"
VIEWER = "Viewer"

BUILTIN_ROLES: dict[str, list[str]] = {
    OWNER: [code for code, _ in CHOICES],
    STAFF: [
        STRIPE_VIEW,
        STRIPE_READ,
        WORKFLOW_EDIT,
        BILLING_CHARGE,
        INVOICES_MANAGE,
        CONTACTS_EDIT,
    ],
    INVOICE_PAYER: [STRIPE_PAY],
    # The Stripe dashboard needs stripe=view and stripe=read (the payment guide).
    VIEWER: [STRIPE_VIEW, STRIPE_READ, CONTACTS_VIEW],
}


def expand(codes: set[str] | frozenset[str] | list[str]) -> frozenset[str]:
    """The codes plus everything they imply."""
    result = set(codes)
    for code in codes:
        result |= IMPLIED.get(code, frozenset())
    return frozenset(result)
