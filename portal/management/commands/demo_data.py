"""Load the demo data; running it again changes nothing that is already there."""

from __future__ import annotations

from urllib.parse import urlparse

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from automation.demo import demo_automation
from integrations.gateway.client import credentials_for
from integrations.gateway.customers import customer_create, customer_retrieve, payment_method_attach
from integrations.gateway.errors import NOT_FOUND, GatewayError
from integrations.models import StripeConnection
from integrations.sandbox.control import SandboxControl
from integrations.services import connection_create_from_key
from portal import perms
from portal.models import Contact, Membership, OrgUnit, Workspace
from portal.services import builtin_roles_ensure

User = get_user_model()

PASSWORD = "demo-pass-2026"
USERS = {
    "owner@agency.test": ("Olivia", "Owner"),
    "staff@acme.test": ("Sam", "Staff"),
    "payer@acme.test": ("Pat", "Payer"),
}
DEMO_SECRET_KEY = "sk_test_51AcmeDentalDemoKey000000004242"
DEMO_PUBLISHABLE_KEY = "pk_test_51AcmeDentalDemoKey000000004242"
DEMO_ACCOUNT = {
    "id": "acct_1AcmeDentalDemo",
    "name": "Acme Dental",
    "country": "US",
    "default_currency": "usd",
    "email": "billing@acme.test",
}
CONTACTS = [
    # name, e-mail, phone, custom fields, test card to save (None: no Stripe customer)
    ("Jane Cooper", "jane.cooper@example.com", "+1 555 0101", {"lead_value": "150"},
     "pm_card_visa"),
    ("Marcus Lee", "marcus.lee@example.com", "+1 555 0102", {"lead_value": "90"},
     "pm_card_mastercard"),
    ("Priya Patel", "priya.patel@example.com", "+1 555 0103", {"lead_value": "120"}, None),
    ("Tom Becker", "tom.becker@example.com", "", {}, None),
]  # fmt: skip
# The business the agency bills a fee per lead ("Pay per lead"): one Stripe customer with a
# card on file, fixed in the workflow's charge step. The leads themselves never pay.
CLIENT = ("Acme Dental (lead fees)", "billing@acme.test", "", {}, "pm_card_visa")


def _is_sandbox(base: str) -> bool:
    return urlparse(base).hostname in {"127.0.0.1", "localhost", "::1"}


class Command(BaseCommand):
    help = "Create the demo agency, workspaces, users, Stripe connection and contacts (idempotent)."

    def handle(self, *args, **options):
        users = {email: self._user(email, *names) for email, names in USERS.items()}
        with transaction.atomic():
            acme = self._workspace("Acme Dental", "acme-dental")
            units = self._units(acme)
            roles = builtin_roles_ensure(workspace=acme)
            self._member(acme, users["owner@agency.test"], roles[perms.OWNER], units["/acme"])
            self._member(acme, users["staff@acme.test"], roles[perms.STAFF], units["/acme"])
            self._member(
                acme, users["payer@acme.test"], roles[perms.INVOICE_PAYER], units["/acme/Branch A"]
            )
            bright = self._workspace("Bright Smiles Ortho", "bright-smiles")
            bright_roles = builtin_roles_ensure(workspace=bright)
            self._member(bright, users["owner@agency.test"], bright_roles[perms.OWNER], None)
            contacts = [self._contact(acme, *row[:4]) for row in [*CONTACTS, CLIENT]]
        connection = self._connection(acme)
        if connection is not None:
            for contact, row in zip(contacts, [*CONTACTS, CLIENT], strict=True):
                if row[4]:
                    self._stripe_customer(connection, contact, row[4])
        client = contacts[-1]
        with transaction.atomic():
            demo_automation(acme, connection, client_customer_id=client.stripe_customer_id)
        self.stdout.write(self.style.SUCCESS("Demo data is ready."))

    def _user(self, email: str, first: str, last: str):
        user, created = User.objects.get_or_create(
            username=email, defaults={"email": email, "first_name": first, "last_name": last}
        )
        if created:
            user.set_password(PASSWORD)
            user.save()
        return user

    def _workspace(self, name: str, slug: str) -> Workspace:
        return Workspace.objects.get_or_create(slug=slug, defaults={"name": name})[0]

    def _units(self, workspace: Workspace) -> dict[str, OrgUnit]:
        root, _ = OrgUnit.objects.get_or_create(
            workspace=workspace, path="/acme", defaults={"name": "acme"}
        )
        units = {"/acme": root}
        for name in ("Branch A", "Branch B"):
            units[f"/acme/{name}"], _ = OrgUnit.objects.get_or_create(
                workspace=workspace, path=f"/acme/{name}", defaults={"name": name, "parent": root}
            )
        return units

    def _member(self, workspace, user, role, unit) -> None:
        membership, created = Membership.objects.get_or_create(
            workspace=workspace, user=user, defaults={"org_unit": unit}
        )
        if created:
            membership.roles.add(role)

    def _contact(self, workspace, name, email, phone, custom) -> Contact:
        return Contact.objects.get_or_create(
            workspace=workspace,
            email=email,
            defaults={"name": name, "phone": phone, "custom_fields": custom},
        )[0]

    def _connection(self, workspace: Workspace) -> StripeConnection | None:
        base = settings.STRIPE_API_BASE
        if not _is_sandbox(base):
            self.stdout.write("STRIPE_API_BASE is not the local sandbox: no demo Stripe data.")
            return None
        SandboxControl(base).register_key(
            DEMO_SECRET_KEY, publishable_key=DEMO_PUBLISHABLE_KEY, account=DEMO_ACCOUNT
        )
        existing = workspace.stripe_connections.filter(account_id=DEMO_ACCOUNT["id"]).first()
        if existing:
            return existing
        return connection_create_from_key(
            workspace=workspace,
            secret_key=DEMO_SECRET_KEY,
            publishable_key=DEMO_PUBLISHABLE_KEY,
        )

    def _stripe_customer(self, connection, contact: Contact, card: str) -> None:
        credentials = credentials_for(connection)
        if contact.stripe_customer_id:
            try:
                customer_retrieve(credentials, customer_id=contact.stripe_customer_id)
                return
            except GatewayError as error:
                if error.code != NOT_FOUND:  # the sandbox lost its data: create it again
                    raise
        key = f"demo:contact:{contact.uuid}"
        customer = customer_create(
            credentials,
            name=contact.name,
            email=contact.email,
            idempotency_key=f"{key}:customer:{connection.account_id}",
        )
        payment_method_attach(
            credentials,
            customer_id=customer.id,
            payment_method=card,
            idempotency_key=f"{key}:card:{customer.id}",
            make_default=True,
        )
        contact.stripe_customer_id = customer.id
        contact.save(update_fields=["stripe_customer_id", "updated_at"])
