"""Load the demo data; running it again changes nothing that is already there.

The demo workspace is connected to Stripe with the keys given (``--secret-key`` and
``--publishable-key``, or DEMO_STRIPE_SECRET_KEY and DEMO_STRIPE_PUBLISHABLE_KEY), and only
when STRIPE_API_BASE is the local sandbox: ``python3 dev.py`` registers the demo account's keys
with the sandbox it starts and passes them here. Without keys there is no demo Stripe data.

With ``--register-webhook`` (``python3 dev.py`` passes it) the demo connection's webhook
endpoint is registered in the sandbox, at SITE_URL, so its events reach the portal as Stripe's
would: again on every run, the endpoints are brought in line with SITE_URL (a URL of an older
port is changed, an endpoint the sandbox forgot is registered again, one left over from an
older database is deleted) and never piled up.

With a connection, the workspace then has what the README's five-minute tour shows, made
through the product's services against the sandbox as a member's clicks would make it: a
payout bank account on the Stripe account, calendars with bookings (one paid by the booking
workflow, one declined by it: a failed run, one paid by hand through a payment link, some not
paid), waiting reminder runs, a workflow published twice, a charge by hand with a refund,
invoices in each state and an invoice payer with a saved card, a verified bank account and
work items to pay. Each piece is looked for first, so a second load makes no row and no
Stripe object twice.
"""

from __future__ import annotations

import json
import os
import re
import urllib.request
from urllib.parse import urlencode, urlparse

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.urls import reverse

from automation.demo import demo_automation, demo_bookings, demo_lead
from automation.engine import run_execute
from automation.models import Run
from billing.demo import demo_link, demo_link_paid, demo_refunded_charge
from integrations.gateway.accounts import account_retrieve, bank_accounts_list
from integrations.gateway.client import Credentials
from integrations.gateway.customers import customer_create, customer_retrieve, payment_method_attach
from integrations.gateway.errors import NOT_FOUND, GatewayError
from integrations.gateway.webhooks import endpoint_delete, endpoint_list, endpoint_update_url
from integrations.models import StripeConnection, WebhookEndpoint
from integrations.selectors import connection_credentials
from integrations.services import (
    connection_create_from_key,
    webhook_endpoint_for,
    webhook_endpoint_register,
)
from invoices.demo import demo_invoices, demo_payer_bank, demo_payer_card, demo_payment_process
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
CONTACTS = [
    # name, e-mail, phone, custom fields, test card to save (None: no Stripe customer)
    ("Jane Cooper", "jane.cooper@example.com", "+1 555 0101", {"lead_value": "150"},
     "pm_card_visa"),
    ("Marcus Lee", "marcus.lee@example.com", "+1 555 0102", {"lead_value": "90"},
     "pm_card_mastercard"),
    ("Priya Patel", "priya.patel@example.com", "+1 555 0103", {"lead_value": "120"}, None),
    ("Tom Becker", "tom.becker@example.com", "", {}, None),
    # A card that saves but is declined when charged (Stripe's 4000 0000 0000 0341): his
    # booking's charge fails, a failed run.
    ("Declan Ross", "declan.ross@example.com", "+1 555 0104", {}, "pm_card_chargeCustomerFail"),
]  # fmt: skip
# The business the agency bills a fee per lead ("Pay per lead"): one Stripe customer with a
# card on file, fixed in the workflow's charge step. The leads themselves never pay.
CLIENT = ("Acme Dental (lead fees)", "billing@acme.test", "", {}, "pm_card_visa")


# The path of the portal's webhook URLs (portal/urls.py, "stripe_webhook").
HOOK_PATH = re.compile(
    r"/hooks/stripe/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/$"
)


def _is_sandbox(base: str) -> bool:
    return urlparse(base).hostname in {"127.0.0.1", "localhost", "::1"}


class Command(BaseCommand):
    help = "Create the demo agency, workspaces, users, Stripe connection and contacts (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--secret-key",
            help="the demo Stripe account's secret key (default: DEMO_STRIPE_SECRET_KEY); "
            "without one there is no demo Stripe data",
        )
        parser.add_argument(
            "--publishable-key",
            help="its publishable key (default: DEMO_STRIPE_PUBLISHABLE_KEY)",
        )
        parser.add_argument(
            "--register-webhook",
            action="store_true",
            help="register the demo connection's webhook endpoint in the sandbox at SITE_URL "
            "(python3 dev.py does), or point the registered one at SITE_URL",
        )

    def handle(self, *args, **options):
        secret_key = options["secret_key"] or os.environ.get("DEMO_STRIPE_SECRET_KEY", "")
        publishable_key = options["publishable_key"] or os.environ.get(
            "DEMO_STRIPE_PUBLISHABLE_KEY", ""
        )
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
        connection = self._connection(acme, secret_key, publishable_key)
        if connection is not None:
            for contact, row in zip(contacts, [*CONTACTS, CLIENT], strict=True):
                if row[4]:
                    self._stripe_customer(connection, contact, row[4])
            if options["register_webhook"]:
                self._webhook_endpoints(connection)
        client = contacts[-1]
        with transaction.atomic():
            demo_automation(
                acme,
                connection,
                client_customer_id=client.stripe_customer_id,
                publisher=users["owner@agency.test"],
            )
        if connection is not None:
            self._payout_bank(connection, secret_key)
            self._activity(acme, connection, users, units, roles, contacts)
        self.stdout.write(self.style.SUCCESS("Demo data is ready."))

    def _activity(self, acme, connection, users, units, roles, contacts) -> None:
        """Bookings, runs, payments and invoices, each made once (see the module's docstring)."""
        by_email = {contact.email: contact for contact in contacts}
        staff, owner = users["staff@acme.test"], users["owner@agency.test"]
        bookings = {(a.calendar.slug, a.email): a for a in demo_bookings(acme)}
        demo_lead(acme)
        self._execute_runs(acme)  # dev.py's worker starts later; the tour needs them now
        demo_refunded_charge(
            workspace=acme, connection=connection, contact=by_email["jane.cooper@example.com"],
            user=staff, amount=60_00, refund=20_00, description="Teeth whitening kit",
        )  # fmt: skip
        for email, paid in (("marcus.lee@example.com", True), ("tom.becker@example.com", False)):
            link = demo_link(
                workspace=acme,
                contact=by_email[email],
                appointments=[bookings["acme-consultation", email]],
                user=staff,
                description="Consultation",
            )
            if paid:
                demo_link_paid(link=link, confirm=self._customer_confirms(connection))
        payer = users["payer@acme.test"]
        demo_payment_process(
            workspace=acme, org_unit=units["/acme/Branch A"], role=roles[perms.INVOICE_PAYER]
        )
        card = demo_payer_card(payer=payer, connection=connection)
        demo_payer_bank(payer=payer, connection=connection)
        demo_invoices(
            workspace=acme, contact=contacts[-1], org_unit=units["/acme/Branch A"],
            payer=payer, card=card, owner=owner,
        )  # fmt: skip

    def _execute_runs(self, workspace) -> None:
        """Execute the runs still queued, as the worker would (it finds them done later)."""
        for run_pk in Run.objects.filter(workspace=workspace, status=Run.Status.QUEUED).values_list(
            "pk", flat=True
        ):
            run_execute(run_pk=run_pk)

    def _customer_confirms(self, connection):
        """The customer's browser on the hosted pay page: Stripe.js confirms the PaymentIntent
        with their card, the publishable key and the intent's client secret."""

        def confirm(intent_id: str, client_secret: str) -> None:
            request = urllib.request.Request(
                f"{settings.STRIPE_API_BASE.rstrip('/')}/v1/payment_intents/{intent_id}/confirm",
                data=urlencode(
                    {"payment_method": "pm_card_visa", "client_secret": client_secret}
                ).encode(),
                headers={"Authorization": f"Bearer {connection.publishable_key}"},
                method="POST",
            )
            with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 (sandbox)
                json.load(answer)

        return confirm

    def _payout_bank(self, connection, secret_key: str) -> None:
        """A payout bank account on the Stripe account (the Stripe page lists it). Stripe's
        API cannot add one with the account's own key (the account holder does, in Stripe's
        dashboard): the sandbox's control API stands in for that."""
        credentials = connection_credentials(connection)
        if bank_accounts_list(credentials, account_id=connection.account_id):
            return
        # Over HTTP, as the sandbox's own client would: the portal never imports the sandbox.
        body = {"secret_key": secret_key, "bank_name": "STRIPE TEST BANK", "last4": "6789",
                "status": "verified", "currency": "usd", "country": "US"}  # fmt: skip
        request = urllib.request.Request(
            f"{settings.STRIPE_API_BASE.rstrip('/')}/_sandbox/external_accounts",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 (sandbox)
            json.load(answer)

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

    def _connection(
        self, workspace: Workspace, secret_key: str, publishable_key: str
    ) -> StripeConnection | None:
        if not secret_key:
            self.stdout.write(
                "No demo Stripe keys (DEMO_STRIPE_SECRET_KEY or --secret-key; python3 dev.py "
                "passes them): no demo Stripe data."
            )
            return None
        if not _is_sandbox(settings.STRIPE_API_BASE):
            self.stdout.write("STRIPE_API_BASE is not the local sandbox: no demo Stripe data.")
            return None
        try:
            account = account_retrieve(Credentials(secret_key=secret_key))
        except GatewayError as error:
            # E.g. a sandbox that lost its data forgot the key: register it again first.
            raise CommandError(
                f"The Stripe sandbox refused the demo key: {error.message} (python3 dev.py "
                "registers it with the sandbox before loading the demo data)."
            ) from None
        existing = workspace.stripe_connections.filter(account_id=account.id).first()
        if existing:
            return existing
        return connection_create_from_key(
            workspace=workspace, secret_key=secret_key, publishable_key=publishable_key
        )

    def _stripe_customer(self, connection, contact: Contact, card: str) -> None:
        credentials = connection_credentials(connection)
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

    def _webhook_endpoints(self, connection: StripeConnection) -> None:
        """The connection's endpoints in the sandbox, at SITE_URL, each once (see the module's
        docstring)."""
        credentials = connection_credentials(connection)
        webhook_endpoint_for(connection=connection)  # the connection's own, registered below
        rows = {str(row.uuid): row for row in connection.webhook_endpoints.all()}
        registered = endpoint_list(credentials)
        for endpoint in registered:
            match = HOOK_PATH.search(urlparse(endpoint.url).path)
            if match is None:
                continue  # not the portal's: someone added it by hand
            row = (
                rows.get(match.group(1))
                or WebhookEndpoint.objects.filter(uuid=match.group(1)).first()
            )
            if row is None or row.stripe_endpoint_id != endpoint.id:
                # Left over from an older database (or an older registration of that row).
                endpoint_delete(credentials, endpoint_id=endpoint.id)
        urls = {endpoint.id: endpoint.url for endpoint in registered}
        for row in rows.values():
            url = settings.SITE_URL + reverse("stripe_webhook", args=[row.uuid])
            if row.stripe_endpoint_id in urls:
                if urls[row.stripe_endpoint_id] != url:
                    endpoint_update_url(credentials, endpoint_id=row.stripe_endpoint_id, url=url)
                continue
            if row.stripe_endpoint_id:  # the sandbox lost its data: register it again
                row.stripe_endpoint_id = ""
                row.save(update_fields=["stripe_endpoint_id"])
            elif row.trigger_key:
                continue  # a trigger's endpoint with a pasted secret: not ours to register
            try:
                row = webhook_endpoint_register(connection=connection, trigger_key=row.trigger_key)
            except ValidationError as error:
                self.stderr.write(f"No webhook endpoint in the sandbox: {' '.join(error.messages)}")
                continue
            if row.stripe_endpoint_id not in {e.id for e in endpoint_list(credentials)}:
                # The sandbox kept the idempotency key of an endpoint deleted since.
                self.stderr.write(
                    f"The sandbox answered with the deleted webhook endpoint "
                    f"{row.stripe_endpoint_id}: stop dev.py and delete var/stripe-sandbox.pickle."
                )
        own = webhook_endpoint_for(connection=connection)
        self.stdout.write(
            "Webhook endpoint: " + settings.SITE_URL + reverse("stripe_webhook", args=[own.uuid])
        )
