"""No stored secret in any page, header, e-mail or log record of the portal.

Workspace "acme" stores a test secret key, a restricted live key and webhook signing secrets
(current, previous, one registered through Stripe's API). Then every workspace page of the
access matrix (tests/test_access.py) is rendered as the owner, for every connection where a
page names one, and every POST-only action is posted; the public pages, the admin (every
registered model) and the error pages are rendered; every e-mail the portal sends is sent; the
keys are pasted into forms that refuse them, and a Stripe that quotes the key in its error
messages answers some pages. Every log record is captured at DEBUG, stripe-python's too. The
whole of every stored secret, or 12 characters of it in a row, must appear nowhere (the masks
the UI shows, `sk_test_...WXYZ`, are fine).
"""

from __future__ import annotations

import contextlib
import logging
import re
from base64 import b32decode

from django.contrib import admin
from django.core.mail import EmailMessage
from django.http import HttpResponse
from django.test import Client, RequestFactory, override_settings
from django.urls import Resolver404, resolve, reverse
from django.views import defaults
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from billing.services.links import payment_link_create
from integrations.models import StripeConnection, WebhookEndpoint
from integrations.services import connection_create_from_key, webhook_secret_set
from portal import perms
from tests.automation.conftest import publish
from tests.factories import (
    PASSWORD,
    ContactFactory,
    MembershipFactory,
    UserFactory,
    WorkspaceFactory,
)
from tests.integrations.webhook_helpers import event_body, signature
from tests.portal.test_admin import _one_of_each, _task
from tests.reliability.leaks import Outputs, stripe_quoting_the_key
from tests.test_access import PAGES, _objects, _url
from tests.test_access_public import PUBLIC

# No two share 12 characters in a row, so a leak names the secret it shows.
SECRET_KEY = "sk_test_51TestKeyOfAcme0a1b2c3d4e5f6g7h8i9jWXYZ"
LIVE_KEY = "rk_live_51LiveRestrictedKey9z8y7x6w5v4u3t2sQRST"
HOOK = "whsec_CurrentHookSecret0123456789abcdef"
OLD_HOOK = "whsec_PriorSignature9876543210fedcba"
LIVE_HOOK = "whsec_LiveEndpointKey13579bdf02468ace"
CONNECT_HOOK = "whsec_PlatformConnectHookQwErTyUiOpZx"
KNOWN = {"sk_test": SECRET_KEY, "rk_live": LIVE_KEY, "whsec": HOOK, "whsec old": OLD_HOOK,
         "whsec live": LIVE_HOOK, "whsec connect": CONNECT_HOOK}  # fmt: skip
TEST_PK, LIVE_PK = "pk_test_AcmePublishable01", "pk_live_AcmePublishable02"
THANKS = {"key": "mail", "type": "send_email", "name": "Thanks",
          "config": {"to": "{{ contact.email }}", "subject": "Thanks {{ contact.name }}",
                     "body": "Got it."}}  # fmt: skip


def _capture_every_logger(caplog, request) -> None:
    """DEBUG for the root and every logger given a level (stripe's, django's); loggers that
    do not propagate get the capturing handler themselves."""
    caplog.set_level(logging.DEBUG)
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if not isinstance(logger, logging.Logger):
            continue
        if logger.level:
            caplog.set_level(logging.DEBUG, logger=name)
        if not logger.propagate:
            logger.addHandler(caplog.handler)
            request.addfinalizer(lambda logger=logger: logger.removeHandler(caplog.handler))
    caplog.set_level(logging.DEBUG, logger="stripe")


def _store_secrets(sandbox, workspace) -> list[StripeConnection]:
    control = sandbox.control
    control.register_key(SECRET_KEY, publishable_key=TEST_PK, account={"name": "Acme Test"})
    control.register_key(LIVE_KEY, publishable_key=LIVE_PK, account={"name": "Acme Live"},
                         permissions={"account": "read", "customers": "read"})  # fmt: skip
    test = connection_create_from_key(
        workspace=workspace, secret_key=SECRET_KEY, publishable_key=TEST_PK
    )
    live = connection_create_from_key(
        workspace=workspace, secret_key=LIVE_KEY, publishable_key=LIVE_PK, make_default=False
    )
    webhook_secret_set(connection=test, secret=OLD_HOOK)
    webhook_secret_set(connection=test, secret=HOOK)
    webhook_secret_set(connection=live, secret=LIVE_HOOK)
    return list(workspace.stripe_connections.all())


def _rendered(outputs) -> set[str]:
    """The names of the URLs requested."""
    names = set()
    for where, _ in outputs.items:
        method, _, url = where.partition(" ")
        if method in ("GET", "POST"):
            with contextlib.suppress(Resolver404):
                names.add(resolve(url.split("?")[0]).url_name)
    return names


def _stored_secrets() -> dict[str, str]:
    """Every secret in the database, under a name that says whose it is."""
    stored = {}
    for connection in StripeConnection.objects.all():
        if connection.secret_key:
            stored[f"key of {connection}"] = connection.secret_key
    for endpoint in WebhookEndpoint.objects.all():
        for field in ("secret", "previous_secret"):
            if getattr(endpoint, field):
                stored[f"{field} of {endpoint}"] = getattr(endpoint, field)
    return stored


def _collect(outputs, where, response):
    # Every request here is made by someone allowed to: a log-in page would hide the page.
    assert not response.get("Location", "").startswith(reverse("login")), where
    outputs.response(where, response)


def _get(client, outputs, url, **extra):
    response = client.get(url, **extra)
    _collect(outputs, f"GET {url}", response)
    return response


def _post(client, outputs, url, data=None):
    """POST, then render where it redirects to (within the portal)."""
    response = client.post(url, data or {})
    _collect(outputs, f"POST {url}", response)
    location = response.get("Location", "")
    if response.status_code == 302 and location.startswith("/"):
        _get(client, outputs, location)
    return response


def _failed_pastes(client, outputs, connections) -> None:
    """The keys pasted where they are refused: the re-rendered forms must not hold them."""
    create = reverse("stripe_connection_create", args=["acme"])
    _post(client, outputs, create, {"secret_key": LIVE_KEY, "publishable_key": TEST_PK})
    _post(client, outputs, create, {"secret_key": SECRET_KEY + "Zz9", "publishable_key": TEST_PK})
    test = next(c for c in connections if c.secret_key == SECRET_KEY)
    edit = reverse("stripe_connection_edit", args=["acme", test.uuid])
    _post(client, outputs, edit, {"secret_key": LIVE_KEY, "publishable_key": LIVE_PK})
    hooks = reverse("stripe_connection_webhooks", args=["acme", test.uuid])
    _post(client, outputs, hooks, {"action": "paste", "secret": HOOK + "!"})


# The access matrix's rows: (permission, object named, answer to GET, answer to POST).
POST_ONLY = sorted(name for name, row in PAGES.items() if row[2] == 405)


def _workspace_pages(client, outputs, objects, connections, *, prefix="") -> None:
    """Every page of the access matrix (or those whose name starts with `prefix`), as a page
    and as an htmx partial; the pages naming a connection, and the Stripe pages, for every
    connection."""
    for name, (_, needs, get_status, _) in sorted(PAGES.items()):
        if not name.startswith(prefix):
            continue
        urls = [_url(name, needs, objects)]
        if needs == "connection":
            urls = [reverse(name, args=["acme", c.uuid]) for c in connections]
        elif name.startswith("stripe_") and needs is None:
            urls += [f"{urls[0]}?connection={c.uuid}" for c in connections]
        elif name.startswith("stripe_"):  # the matrix's Stripe objects, not the default's
            urls = [f"{urls[0]}?connection={objects['connection'][1]}"]
        for url in urls:
            response = _get(client, outputs, url)
            assert response.status_code == get_status or prefix, url
            _get(client, outputs, url, HTTP_HX_REQUEST="true")


def _post_only_actions(client, outputs, objects, connections) -> None:
    """Every POST-only action (checks, fetches, replays, reconciliation, sending the link)."""
    for name in POST_ONLY:
        needs = PAGES[name][1]
        if needs == "connection":
            for connection in connections:
                _post(client, outputs, reverse(name, args=["acme", connection.uuid]))
        else:
            _post(client, outputs, _url(name, needs, objects))
    endpoint = WebhookEndpoint.objects.get(connection__uuid=objects["connection"][1])
    hooks = reverse("stripe_connection_webhooks", args=["acme", endpoint.connection.uuid])
    _post(client, outputs, hooks, {"action": "register"})  # Stripe makes a secret


def _webhooks(outputs, connections) -> None:
    """Deliveries signed with the current and previous secret, and a forged one."""
    client = Client()
    test = next(c for c in connections if c.secret_key == SECRET_KEY)
    url = reverse("stripe_webhook", args=[test.webhook_endpoints.get().uuid])
    for number, secret in enumerate([HOOK, OLD_HOOK, "whsec_forgedSecret0000"]):
        body = event_body(f"evt_secrets_{number}")
        response = client.post(url, body, content_type="application/json",
                               HTTP_STRIPE_SIGNATURE=signature(body, secret))  # fmt: skip
        outputs.response(f"POST {url}", response)
        assert response.status_code == (400 if "forged" in secret else 200)
    connect = reverse("stripe_connect_webhook")  # the platform's: an unknown account, a forgery
    with override_settings(STRIPE_CONNECT_WEBHOOK_SECRETS=[CONNECT_HOOK]):
        for number, secret in enumerate([CONNECT_HOOK, "whsec_forgedSecret0000"]):
            body = event_body(f"evt_connect_{number}", account="acct_secretsUnknown")
            response = client.post(connect, body, content_type="application/json",
                                   HTTP_STRIPE_SIGNATURE=signature(body, secret))  # fmt: skip
            outputs.response(f"POST {connect}", response)
            assert response.status_code == (400 if "forged" in secret else 200)


def _public_pages(outputs, objects, workspace, owner, capture, sandbox) -> None:
    """Log-in (and a wrong password), the form (its workflow sends an e-mail), booking, a
    payment link paid (receipt and admin e-mail)."""
    client = Client()
    for url in [reverse("login"), reverse("password_reset"), reverse("healthz")]:
        _get(client, outputs, url)
    logout = reverse("logout")  # sends to the log-in page, which _post refuses
    outputs.response(f"POST {logout}", client.post(logout))
    _post(client, outputs, reverse("login"), {"username": owner.username, "password": "wrong"})
    form = workspace.forms.get(uuid=objects["form"][1])
    publish(workspace, [THANKS], trigger="form_submitted", trigger_config={"forms": []})
    url = reverse("public_form", args=[form.slug])
    _get(client, outputs, url)
    with capture(execute=True):
        _post(client, outputs, url, {"name": "Jane", "email": "jane@example.com"})
    calendar = workspace.calendars.get(uuid=objects["calendar"][1])
    _get(client, outputs, reverse("public_booking", args=[calendar.slug]))
    _pay_a_link(client, outputs, workspace, capture, sandbox)


def _pay_a_link(client, outputs, workspace, capture, sandbox) -> None:
    contact = ContactFactory(workspace=workspace, name="Pat Payer", email="pat@example.com")
    link = payment_link_create(workspace=workspace, contact=contact, amount=7499, currency="usd",
                               description="Two visits")  # fmt: skip
    _get(client, outputs, link.get_absolute_url())
    _post(client, outputs, reverse("public_pay_intent", args=[link.token]))
    link.refresh_from_db()  # Stripe.js confirms in the page:
    sandbox.client(link.connection.secret_key).v1.payment_intents.confirm(
        link.payment.stripe_payment_intent_id, params={"payment_method": "pm_card_visa"}
    )
    with capture(execute=True):  # the receipt and the admin e-mail
        done = _get(client, outputs, reverse("public_pay_return", args=[link.token]))["Location"]
    assert _get(client, outputs, done).status_code == 200


def _password_reset(outputs, owner, mailbox) -> None:
    """Asked for, then the link of the e-mail followed to a new password."""
    client = Client()
    _post(client, outputs, reverse("password_reset"), {"email": owner.email})
    (reset,) = [m for m in mailbox if "reset" in m.subject.lower()]
    path = re.search(r"https?://\S+(/accounts/reset/\S+/)", reset.body)[1]
    confirm = _get(client, outputs, path)
    _get(client, outputs, confirm["Location"])
    _post(client, outputs, confirm["Location"],
          {"new_password1": "a-New-pass-2026!", "new_password2": "a-New-pass-2026!"})  # fmt: skip


def _invitation_answered(outputs, mailbox) -> None:
    """The invitation's link followed by its new invitee: a password chosen, accepted, then
    declined too (the answer already given is shown)."""
    client = Client()
    (invite,) = [m for m in mailbox if "invites you to join" in m.subject]
    path = re.search(r"https?://\S+?(/invitations/\S+/)", invite.body)[1]
    _get(client, outputs, path)
    _post(client, outputs, path,
          {"new_password1": "a-New-pass-2026!", "new_password2": "a-New-pass-2026!"})  # fmt: skip
    _post(client, outputs, path + "accept/")
    _post(client, outputs, path + "decline/")


def _two_factor(outputs, workspace) -> tuple[Outputs, dict[str, str]]:
    """Two-factor sign-in set up by an owner of its own: the set-up page and the recovery codes
    are the one time its secrets show, returned apart with the secrets; then every page of it
    again (into `outputs`) and a log-in with a recovery code, where they must not show."""
    user = UserFactory(username="guarded@acme.test")
    MembershipFactory(user=user, workspace=workspace, roles=[perms.OWNER])
    client, shown = Client(), Outputs()
    client.force_login(user)
    setup = reverse("two_factor_setup")
    page = _get(client, shown, setup)
    grouped = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', page.text)[1]
    secret = grouped.replace(" ", "")
    code = f"{TOTP(b32decode(secret)).token():06d}"
    codes = re.findall(
        r"<li><code>(\w{8})</code></li>", _post(client, shown, setup, {"code": code}).text
    )
    for name in ["two_factor", "two_factor_setup", "two_factor_codes", "two_factor_disable"]:
        _get(client, outputs, reverse(name))
        _post(client, outputs, reverse(name))
    again = Client()
    _post(again, outputs, reverse("login"), {"username": user.username, "password": PASSWORD})
    _post(again, outputs, reverse("two_factor_verify"), {"code": codes[0]})
    _get(again, outputs, reverse("two_factor_verify"))  # verified: sent on
    key = TOTPDevice.objects.get(user=user).key
    secrets = {"TOTP secret": secret, "TOTP secret as shown": grouped, "TOTP key": key}
    return shown, secrets | {f"recovery code {n}": c for n, c in enumerate(codes, 1)}


def _admin_pages(outputs) -> None:
    """The index; every registered model's list, and the change and history pages of its
    rows (with a row of each, in a workspace of their own, as tests/portal/test_admin.py
    makes them: a connection with its own key among them)."""
    user = UserFactory(username="root@agency.test", is_superuser=True, is_staff=True)
    MembershipFactory(user=user, workspace=WorkspaceFactory(slug="ops"), roles=["Owner"])
    _one_of_each(user)
    _task(success=False)  # a failed task, for django-q's Failure pages
    client = Client()
    client.force_login(user)
    _get(client, outputs, reverse("admin:index"))
    for model in admin.site._registry:
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        _get(client, outputs, reverse(f"{prefix}_changelist"))
        rows = list(model._default_manager.all()[:5])
        assert rows, f"no row of {model._meta.label} to show"
        for row in rows:
            change = reverse(f"{prefix}_change", args=[row.pk])
            assert _get(client, outputs, change).status_code == 200, change
            _get(client, outputs, reverse(f"{prefix}_history", args=[row.pk]))


def _error_pages(outputs, owner) -> None:
    """404 (anonymous and member), 400 (a host not allowed), 403 (CSRF), 500."""
    _get(Client(), outputs, "/no-such-page/")
    member = Client()
    member.force_login(owner)
    _get(member, outputs, "/w/acme/no-such-page/")
    _get(member, outputs, "/", HTTP_HOST="evil.example")
    outputs.response("CSRF 403", Client(enforce_csrf_checks=True).post(reverse("login")))
    outputs.response("500", defaults.server_error(RequestFactory().get("/")))


STRIPE_READS = ["stripe_dashboard", "stripe_customer_list", "stripe_event_list"]


def _stripe_quotes_the_key(client, outputs, objects, connections, settings) -> None:
    """Stripe answers with the whole key in its error message: 400 to the Stripe pages, 401
    to a check (the connection is marked rejected and the owners are e-mailed)."""
    customer, sandbox_url = objects["customer"][1], settings.STRIPE_API_BASE
    with stripe_quoting_the_key(400) as url:
        settings.STRIPE_API_BASE = url
        for connection in connections:
            query = f"?connection={connection.uuid}"
            urls = [reverse(page, args=["acme"]) + query for page in STRIPE_READS]
            urls.append(reverse("stripe_customer_detail", args=["acme", customer]) + query)
            for url in urls:
                assert _get(client, outputs, url).status_code == 200, url
    with stripe_quoting_the_key(401) as url:
        settings.STRIPE_API_BASE = url
        for connection in connections:
            check = reverse("stripe_connection_check", args=["acme", connection.uuid])
            _post(client, outputs, check)
    settings.STRIPE_API_BASE = sandbox_url


def test_no_stored_secret_appears_in_any_page_e_mail_or_log_record(
    request, sandbox, workspace, org_units, owner, staff, as_user, caplog, mailoutbox, settings,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    _capture_every_logger(caplog, request)
    settings.STRIPE_CONNECT_CLIENT_ID = "ca_access_matrix"
    objects = _objects(workspace, org_units, staff, sandbox)
    connections = _store_secrets(sandbox, workspace)
    outputs, client = Outputs(), as_user(owner)
    _failed_pastes(client, outputs, connections)
    _workspace_pages(client, outputs, objects, connections)
    invite = {"email": "new@acme.test", "roles": [workspace.roles.get(name=perms.STAFF).pk]}
    with django_capture_on_commit_callbacks(execute=True):  # the invitation e-mail
        _post(client, outputs, reverse("member_add", args=["acme"]), invite)
    _invitation_answered(outputs, mailoutbox)
    _post_only_actions(client, outputs, objects, connections)
    for url in ["/", reverse("stripe_oauth_callback") + "?state=nope&code=ac_nope"]:
        _get(client, outputs, url)
    _webhooks(outputs, connections)
    _public_pages(outputs, objects, workspace, owner, django_capture_on_commit_callbacks, sandbox)
    _admin_pages(outputs)
    _error_pages(outputs, owner)
    with django_capture_on_commit_callbacks(execute=True):  # the owners' warning, a task
        _stripe_quotes_the_key(client, outputs, objects, connections, settings)
    # The Stripe pages again, with the rejected keys' panels (their answers may differ now).
    _workspace_pages(client, outputs, objects, connections, prefix="stripe_")
    set_up, two_factor = _two_factor(outputs, workspace)
    _password_reset(outputs, owner, mailoutbox)  # last: it ends the owner's sessions
    outputs.mails(mailoutbox)
    outputs.records(caplog.records)

    # Two-factor sign-in's secret and recovery codes show only while it is set up.
    assert len(two_factor) == 13 and len(set_up.leaks(two_factor)) == 11  # shown there, once
    assert not outputs.leaks(two_factor), outputs.leaks(two_factor)
    outputs.items += set_up.items

    missed = ({name for name, _ in PUBLIC} | set(PAGES)) - _rendered(outputs)
    assert not missed, f"not rendered: {sorted(missed)}"  # every URL of the access matrices
    subjects = " | ".join(m.subject for m in mailoutbox)
    for sent in ["payment request of", "Your receipt from", "Pat Payer paid",
                 "Stripe stopped accepting the key", "Password reset", "invites you to join",
                 "Thanks Jane"]:  # fmt: skip
        assert sent in subjects, f"{sent!r} was not sent: {subjects}"
    secrets = {**KNOWN, **_stored_secrets()}
    assert WebhookEndpoint.objects.exclude(stripe_endpoint_id="").count() == 1  # Stripe's whsec_
    leaks = outputs.leaks(secrets)
    assert not leaks, "secrets shown:\n" + "\n".join(sorted(set(leaks)))
    assert any("sk_test_...WXYZ" in text for _, text in outputs.items)  # the mask is shown


def test_the_search_finds_a_secret_shown_whole_or_in_part():
    outputs = Outputs()
    outputs.response("page", HttpResponse(f"<p>Your key: {SECRET_KEY}</p>"))
    outputs.response("mask", HttpResponse("sk_test_...WXYZ rk_live_...QRST"))  # shown on purpose
    outputs.mails([EmailMessage("Hello", f"retrying with ...{LIVE_KEY[10:22]}...")])  # 12 of it
    outputs.records([logging.makeLogRecord({"msg": "hook %s", "args": (HOOK,), "name": "x"})])
    assert outputs.leaks(KNOWN) == ["page: sk_test", "e-mail 'Hello': rk_live", "log x: whsec"]


def test_the_stripe_librarys_records_name_no_secret(caplog):
    """At INFO and DEBUG stripe-python logs Stripe's answers verbatim; settings.LOGGING
    redacts them."""
    caplog.set_level(logging.DEBUG, logger="stripe")
    logging.getLogger("stripe").debug("body=%r", f'{{"secret": "{HOOK}", "key": "{SECRET_KEY}"}}')
    (record,) = caplog.records
    assert (
        record.getMessage() == """body='{"secret": "whsec_[redacted]", "key": "sk_[redacted]"}'"""
    )
