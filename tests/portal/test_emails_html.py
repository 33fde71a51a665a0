"""Every e-mail the portal sends is HTML with a plain-text alternative, from templates/emails/:
the business's name, a button whose address is the text's, no scripts or external CSS, times in
the recipient's zone with the zone named, bookings oldest first."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from billing.models import IntentMismatch, Payment, PaymentLink
from billing.services.effects import intent_mismatch_notify, payment_succeeded
from billing.services.links import payment_link_email, payment_link_send
from integrations.health import connection_owners_warn
from integrations.models import StripeConnection
from portal import perms
from portal.services import invitation_send
from tests.automation.conftest import publish
from tests.automation.conftest import trigger_run as trigger_run  # noqa: F401 (fixture)
from tests.automation.factories import AppointmentFactory, CalendarFactory
from tests.factories import ContactFactory, StripeConnectionFactory

NEW_YORK = ZoneInfo("America/New_York")


class _Anchors(HTMLParser):
    def __init__(self):
        super().__init__()
        self.buttons: list[tuple[str, str]] = []
        self._open: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and "data-email-button" in attrs:
            self._open = {"href": attrs["href"], "text": ""}

    def handle_data(self, data):
        if self._open is not None:
            self._open["text"] += data

    def handle_endtag(self, tag):
        if tag == "a" and self._open is not None:
            self.buttons.append((self._open["text"].strip(), self._open["href"]))
            self._open = None


def parts(message) -> tuple[str, str]:
    """(text, html) of a sent message, after checking what every e-mail must hold."""
    assert isinstance(message, mail.EmailMultiAlternatives)
    (html, mimetype), *others = message.alternatives
    assert mimetype == "text/html" and others == []
    assert message.body.strip(), "the plain-text part is empty"
    assert html.startswith("<!DOCTYPE html>") and "</html>" in html
    lowered = html.lower()
    for forbidden in ("<script", "<link", "<style", "javascript:", " onclick", " onload"):
        assert forbidden not in lowered, forbidden
    return message.body, html


def button(html: str, text: str) -> tuple[str, str]:
    """The one button of the HTML (label, address); the same address is a line of the text."""
    finder = _Anchors()
    finder.feed(html)
    ((label, href),) = finder.buttons
    assert href in text.splitlines(), f"{href} is not a line of the text part"
    return label, href


@pytest.fixture
def site_url(settings):
    settings.SITE_URL = "http://testserver"
    return settings.SITE_URL


@pytest.fixture
def customer(workspace):
    return ContactFactory(workspace=workspace, name="Jane Cooper", email="jane@example.com")


@pytest.fixture
def bookings(workspace, customer):
    """Two New York bookings made newest first: 9:00 and 14:30 on 7 Jan 2030 (EST)."""
    calendar = CalendarFactory(workspace=workspace, name="Teeth cleaning")
    later = AppointmentFactory(
        calendar=calendar,
        contact=customer,
        starts_at=dt.datetime(2030, 1, 7, 14, 30, tzinfo=NEW_YORK),
        ends_at=dt.datetime(2030, 1, 7, 15, tzinfo=NEW_YORK),
        price_amount=2500,
    )
    earlier = AppointmentFactory(
        calendar=calendar,
        contact=customer,
        starts_at=dt.datetime(2030, 1, 7, 9, tzinfo=NEW_YORK),
        ends_at=dt.datetime(2030, 1, 7, 9, 30, tzinfo=NEW_YORK),
        price_amount=4999,
    )
    return [later, earlier]


@pytest.fixture
def link(workspace, customer, bookings):
    workspace.name = "Acme & Sons"
    workspace.save()
    link = PaymentLink.objects.create(
        workspace=workspace,
        contact=customer,
        amount=7499,
        currency="usd",
        description="Your two visits",
        expires_at=dt.datetime(2030, 1, 14, 17, tzinfo=dt.UTC),
    )
    link.appointments.set(bookings)
    return link


def test_the_link_email_has_a_complete_payment_button_and_the_customers_times(link, settings):
    link.refresh_from_db()
    payment_link_send(link=link, sent_count=0)

    (message,) = mail.outbox
    text, html = parts(message)
    assert message.subject == "Acme & Sons: payment request of $74.99"
    label, href = button(html, text)
    assert label == "Complete Payment"
    assert href == f"{settings.SITE_URL}/pay/{link.token}/"
    # The business's name, escaped in the HTML and as written in the text.
    assert "Acme &amp; Sons asks you to pay" in html and "Acme & Sons asks you to pay" in text
    # The bookings in the calendar's zone, named, oldest first; not "(UTC)".
    for part in (text, html):
        nine, half_two = part.index("Jan. 7, 2030, 9 a.m. EST"), part.index("2:30 p.m. EST")
        assert nine < half_two
        # The expiry in the customer's zone too (the bookings' calendar): 17:00 UTC is noon.
        assert "Jan. 14, 2030, noon EST" in part
        assert "(UTC)" not in part


def test_the_preview_is_the_email_sent(link, staff, as_user):
    client = as_user(staff)
    preview = client.get(reverse("payment_link_detail", args=["acme", link.uuid]))
    framed = client.get(reverse("payment_link_email_html", args=["acme", link.uuid]))
    payment_link_send(link=link, sent_count=0)

    ((sent_html, _),) = mail.outbox[0].alternatives
    assert 'sandbox="allow-popups allow-popups-to-escape-sandbox"' in preview.text
    assert "frame-src 'self'" in preview["Content-Security-Policy"]
    policy = framed["Content-Security-Policy"]
    assert "sandbox" in policy and "script-src" not in policy and "default-src 'none'" in policy
    # What the frame shows is the HTML that arrives, with links opening outside the frame.
    assert framed.text == sent_html.replace("<head>", '<head><base target="_blank">', 1)
    assert mail.outbox[0].body in preview.text.replace("&amp;", "&")


def test_receipt_and_owners_email_read_in_each_recipients_zone_in_date_order(
    workspace, customer, bookings, owner, site_url, django_capture_on_commit_callbacks
):
    # The workspace's clock is Berlin's; the calendar's is New York's.
    workspace.time_zone = "Europe/Berlin"
    workspace.save()
    payment = Payment.objects.create(
        workspace=workspace, contact=customer, source=Payment.Source.PAYMENT_LINK,
        idempotency_key="test:receipt", amount=7499, currency="usd",
        status=Payment.Status.SUCCEEDED, stripe_payment_intent_id="pi_receipt",
        succeeded_at=dt.datetime(2030, 1, 6, 20, tzinfo=dt.UTC), description="Two visits",
    )  # fmt: skip
    payment.appointments.set(bookings)
    PaymentLink.objects.create(
        workspace=workspace, contact=customer, amount=7499, currency="usd",
        description="Two visits", expires_at=dt.datetime(2030, 1, 14, tzinfo=dt.UTC),
        payment=payment,
    )  # fmt: skip

    with django_capture_on_commit_callbacks(execute=True):
        payment_succeeded(payment)

    receipt = next(m for m in mail.outbox if m.to == ["jane@example.com"])
    owners = next(m for m in mail.outbox if m.to == [owner.email])
    text, html = parts(receipt)
    assert receipt.subject == "Your receipt from Acme"
    for part in (text, html):
        # The customer's bookings at their calendar's clock, oldest first; paid at 3 p.m. EST.
        assert part.index("9 a.m. EST") < part.index("2:30 p.m. EST")
        assert "Jan. 6, 2030, 3 p.m. EST" in part and "pi_receipt" in part
    text, html = parts(owners)
    label, href = button(html, text)
    assert (label, href) == ("See the payment", f"{site_url}{payment.get_absolute_url()}")
    for part in (text, html):
        # The owner's (the workspace's) zone: 9:00 in New York is 15:00 in Berlin.
        assert part.index("Jan. 7, 2030, 3 p.m. CET") < part.index("Jan. 7, 2030, 8:30 p.m. CET")
        assert "Jan. 6, 2030, 9 p.m. CET" in part
        assert "Europe/Berlin" in part


def test_owners_alerts_are_html_with_a_button(workspace, owner, site_url):
    connection = StripeConnectionFactory(
        workspace=workspace, health=StripeConnection.Health.AUTH_FAILED
    )
    payment = Payment.objects.create(
        workspace=workspace, source=Payment.Source.NEW_CARD, idempotency_key="test:mismatch",
        amount=20000, currency="usd",
    )  # fmt: skip
    mismatch = IntentMismatch.objects.create(
        workspace=workspace, payment=payment, payment_intent="pi_stray", amount=50,
        currency="usd", reasons="$0.50 instead of $200.00", via="webhook",
    )  # fmt: skip

    connection_owners_warn(connection_id=connection.pk)
    intent_mismatch_notify(mismatch.pk)

    key, stray = mail.outbox
    text, html = parts(key)
    assert key.subject == "Stripe stopped accepting the key of Acme"
    assert button(html, text) == (
        "Replace the key",
        f"{site_url}{reverse('stripe_dashboard', args=['acme'])}",
    )
    assert connection.secret_key not in text + html
    text, html = parts(stray)
    assert button(html, text) == (
        "See every mismatch",
        f"{site_url}{reverse('reconciliation_list', args=['acme'])}",
    )
    assert "pi_stray" in text and "pi_stray" in html and "Acme" in html


def test_the_invitation_names_the_workspace_and_its_expiry_zone(
    workspace, owner, django_capture_on_commit_callbacks
):
    workspace.time_zone = "America/Chicago"
    workspace.save()
    with time_machine.travel(dt.datetime(2030, 1, 1, 15, tzinfo=dt.UTC), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            invitation, _ = invitation_send(
                workspace=workspace, email="grace@example.com",
                roles=[workspace.roles.get(name=perms.STAFF)], org_unit=None, invited_by=owner,
            )  # fmt: skip

    (message,) = mail.outbox
    text, html = parts(message)
    label, href = button(html, text)
    assert label == "Accept or decline" and href.endswith(invitation.get_absolute_url())
    # Fourteen days on, at the workspace's clock, the zone named.
    assert "It works for 14 days, until Jan. 15, 2030, 9 a.m. CST." in text
    assert "<strong>Acme</strong>" in html and "until Jan. 15, 2030, 9 a.m. CST." in html


def test_the_password_reset_link_is_a_button(owner, client):
    client.post(reverse("password_reset"), {"email": owner.email})

    (message,) = mail.outbox
    text, html = parts(message)
    label, href = button(html, text)
    assert label == "Choose a new password"
    assert re.fullmatch(r"http://testserver/accounts/reset/[^/]+/[^/]+/", href)
    assert "Agency Portal" in html


def test_a_workflow_email_keeps_the_members_text_and_escapes_it_in_the_html(
    workspace,
    trigger_run,  # noqa: F811
):
    body = "Hello <b>Jane</b> & co,\nsee you soon.\n\n<script>alert(1)</script>"
    step = {"key": "mail", "type": "send_email", "name": "Hi", "config": {
        "to": "jane@example.com", "subject": "Hi", "body": body}}  # fmt: skip
    publish(workspace, [step])

    assert trigger_run(workspace).status == "succeeded"

    (message,) = mail.outbox
    text, html = parts(message)
    assert text == body  # sent as written
    assert "Hello &lt;b&gt;Jane&lt;/b&gt; &amp; co,<br>see you soon.<br><br>&lt;script&gt;" in html
    assert ">Acme<" in html  # the business's name heads it
    assert message.extra_headers["X-Idempotency-Key"]


def test_the_text_part_is_never_html_escaped(link):
    link.contact.name = "O'Brien & <Co>"
    link.contact.save()
    email = payment_link_email(link)
    assert "Hello O'Brien & <Co>," in email.text
    assert "Hello O&#x27;Brien &amp; &lt;Co&gt;," in email.html
