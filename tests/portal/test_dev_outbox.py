"""The development outbox: with DEBUG on and no EMAIL_URL, e-mails are written to var/outbox/
and read at /dev/outbox/; the HTML part only ever in a sandboxed frame of its own."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.core import mail
from django.urls import include, path

from portal.urls import dev_patterns
from portal.urls import urlpatterns as portal_urlpatterns

# The portal's URLs as DEBUG adds them (portal/urls.py reads DEBUG once, at import).
urlpatterns = [*portal_urlpatterns, path("dev/", include(dev_patterns))]

FILE_BACKEND = "django.core.mail.backends.filebased.EmailBackend"


@pytest.fixture
def outbox(settings, tmp_path):
    settings.DEBUG = True
    settings.ROOT_URLCONF = __name__
    settings.EMAIL_BACKEND = FILE_BACKEND
    settings.EMAIL_FILE_PATH = settings.OUTBOX_DIR = tmp_path
    return tmp_path


def _send(subject, body, to="jane@example.com", html=None):
    message = mail.EmailMultiAlternatives(subject, body, "portal@localhost", [to])
    if html:
        message.attach_alternative(html, "text/html")
    message.send()


def test_the_list_shows_what_was_sent_newest_first(client, outbox, db):
    _send("Your payment link", "Pay here: http://127.0.0.1:8101/pay/abc/")
    with mail.get_connection() as connection:  # two in one file, as a batch is written
        mail.EmailMessage(
            "Receipt", "Thanks", "p@l", ["marcus@example.com"], connection=connection
        ).send()
        mail.EmailMessage(
            "Invitation", "Join", "p@l", ["sam@example.com"], connection=connection
        ).send()

    page = client.get("/dev/outbox/").content.decode()

    assert page.index("Invitation") < page.index("Receipt") < page.index("Your payment link")
    assert "jane@example.com" in page and "sam@example.com" in page


def test_a_message_shows_its_text_with_clickable_links_and_escaped(client, outbox, db):
    _send("Your <b>link</b>", "Pay here: http://127.0.0.1:8101/pay/abc/\n<script>alert(1)</script>")
    listing = client.get("/dev/outbox/").content.decode()
    message_id = listing.split('href="/dev/outbox/')[1].split("/")[0]

    page = client.get(f"/dev/outbox/{message_id}/").content.decode()

    assert '<a href="http://127.0.0.1:8101/pay/abc/"' in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert "Your &lt;b&gt;link&lt;/b&gt;" in page
    assert "<iframe" not in page  # no HTML part


def test_the_html_part_is_framed_from_its_own_sandboxed_address(client, outbox, db):
    html = "<html><head><title>x</title></head><body><a href='http://127.0.0.1:8101/pay/abc/'>Pay</a><script>alert(1)</script></body></html>"
    _send("Receipt", "Thanks", html=html)
    message_id = (
        client.get("/dev/outbox/").content.decode().split('href="/dev/outbox/')[1].split("/")[0]
    )

    page = client.get(f"/dev/outbox/{message_id}/")
    assert f'src="/dev/outbox/{message_id}/html/"' in page.content.decode()
    assert 'sandbox="allow-popups allow-popups-to-escape-sandbox"' in page.content.decode()
    assert "frame-src 'self'" in page["Content-Security-Policy"]

    framed = client.get(f"/dev/outbox/{message_id}/html/")
    policy = framed["Content-Security-Policy"]
    assert "sandbox allow-popups allow-popups-to-escape-sandbox" in policy
    assert "default-src 'none'" in policy and "script-src" not in policy
    assert "frame-ancestors 'self'" in policy and framed["X-Frame-Options"] == "SAMEORIGIN"
    body = framed.content.decode()
    assert body.startswith('<html><head><base target="_blank">')  # links open in a new tab


def test_pages_answer_404_with_debug_off(client, outbox, settings, db):
    _send("Your payment link", "Pay")
    settings.DEBUG = False
    assert client.get("/dev/outbox/").status_code == 404


def test_without_debug_the_portal_has_no_outbox_urls(client, db):
    assert client.get("/dev/outbox/").status_code == 404


@pytest.mark.parametrize(
    "message_id",
    ["nothing", "20260101-120000-1-0", "..%2F..%2Fetc%2Fpasswd", "20260101-120000-1-99"],
)
def test_unknown_or_malformed_messages_answer_404(client, outbox, db, message_id):
    _send("Hello", "x")
    assert client.get(f"/dev/outbox/{message_id}/").status_code == 404
    assert client.get(f"/dev/outbox/{message_id}/html/").status_code == 404


def test_an_empty_outbox_says_how_to_fill_it(client, outbox, db):
    assert "Nothing sent yet" in client.get("/dev/outbox/").content.decode()


def test_settings_write_e_mails_to_the_outbox_in_development_only():
    def backend(**env):
        code = (
            "from portal import settings as s; "
            "print(s.EMAIL_BACKEND, getattr(s, 'EMAIL_FILE_PATH', ''))"
        )
        result = subprocess.run(
            [sys.executable, "-c", code],
            env={"PATH": "/usr/bin:/bin", "ENV_FILE": "/nonexistent", "SECRET_KEY": "x" * 50,
                 "FERNET_KEYS": "y" * 40, **env},
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        return result.stdout.split()

    assert backend(DEBUG="1")[0] == FILE_BACKEND
    assert backend(DEBUG="1")[1].endswith("var/outbox")
    assert backend(DEBUG="1", EMAIL_URL="smtp://h:25")[0].endswith("smtp.EmailBackend")
    assert backend(DEBUG="0")[0].endswith("console.EmailBackend")
