"""The development outbox: the e-mails the portal sent, read in the browser (DEBUG only).

With DEBUG on and no EMAIL_URL, Django's file-based backend writes every message to
settings.OUTBOX_DIR (var/outbox/): one file per connection, each message followed by a line of
79 dashes. These pages list them, newest first, and show one: its text part with clickable
links, its HTML part in a sandboxed frame served with a policy of its own (no scripts, no
forms, links open in a new tab), never inside the portal's page.

They exist only in development: portal/urls.py adds them when DEBUG is on, and they answer 404
whenever it is off. No log-in is asked for: the outbox is where a password-reset or invitation
link is read by someone not logged in yet, on a server only this machine reaches.
"""

from __future__ import annotations

import email
import email.policy
import functools
import re
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path

from csp.constants import NONE, SELF
from csp.decorators import csp, csp_replace
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET

SEPARATOR = b"\n" + b"-" * 79 + b"\n"
FILE_NAME = re.compile(r"^\d{8}-\d{6}-\d+$")  # the file-based backend's names, without .log
MESSAGE_ID = re.compile(r"^(\d{8}-\d{6}-\d+)-(\d+)$")
SHOWN = 200  # the newest messages listed


@dataclass(frozen=True)
class OutboxMessage:
    id: str
    message: EmailMessage
    sent: datetime | None

    @property
    def subject(self) -> str:
        return str(self.message.get("Subject", ""))

    @property
    def to(self) -> str:
        return ", ".join(str(a) for a in (self.message.get("To"), self.message.get("Cc")) if a)

    @property
    def sender(self) -> str:
        return str(self.message.get("From", ""))

    def part(self, subtype: str) -> str | None:
        body = self.message.get_body(preferencelist=(subtype,))
        return body.get_content() if body is not None else None

    @property
    def attachments(self) -> list[str]:
        return [part.get_filename() or "(unnamed)" for part in self.message.iter_attachments()]


def _messages_in(path: Path) -> list[OutboxMessage]:
    chunks = path.read_bytes().split(SEPARATOR)
    found = []
    for index, chunk in enumerate(chunks):
        if not chunk.strip():
            continue
        message = email.message_from_bytes(chunk, policy=email.policy.default)
        try:
            sent = parsedate_to_datetime(str(message["Date"]))
        except (TypeError, ValueError):
            sent = None
        found.append(OutboxMessage(f"{path.stem}-{index}", message, sent))
    return found


def outbox_messages() -> list[OutboxMessage]:
    """The newest SHOWN messages of the outbox, newest first."""
    folder = Path(settings.OUTBOX_DIR)
    if not folder.is_dir():
        return []
    files = sorted(
        (p for p in folder.glob("*.log") if FILE_NAME.match(p.stem)),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    found: list[OutboxMessage] = []
    for path in files:
        found.extend(reversed(_messages_in(path)))
        if len(found) >= SHOWN:
            break
    found.sort(key=lambda m: m.sent.timestamp() if m.sent else 0, reverse=True)  # stable
    return found[:SHOWN]


def outbox_message(message_id: str) -> OutboxMessage:
    match = MESSAGE_ID.match(message_id)
    path = Path(settings.OUTBOX_DIR) / f"{match.group(1)}.log" if match else None
    if path is None or not path.is_file():
        raise Http404("No such message in the outbox.")
    for message in _messages_in(path):
        if message.id == message_id:
            return message
    raise Http404("No such message in the outbox.")


def debug_only(view):
    """404 unless DEBUG is on (the URLs are only added then; this holds if they were not)."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not settings.DEBUG:
            raise Http404("The outbox exists only in development.")
        return view(request, *args, **kwargs)

    return wrapper


def _writes_outbox() -> bool:
    return settings.EMAIL_BACKEND == "django.core.mail.backends.filebased.EmailBackend" and (
        Path(settings.EMAIL_FILE_PATH) == Path(settings.OUTBOX_DIR)
    )


@require_GET
@debug_only
def dev_outbox(request: HttpRequest) -> HttpResponse:
    context = {
        "messages_sent": outbox_messages(),
        "folder": settings.OUTBOX_DIR,
        "writes_outbox": _writes_outbox(),
        "backend": settings.EMAIL_BACKEND,
        "shown": SHOWN,
    }
    return render(request, "portal/dev_outbox/list.html", context)


@require_GET
@debug_only
@csp_replace({"frame-src": [SELF]})  # the HTML part's frame, served by dev_outbox_html
def dev_outbox_message(request: HttpRequest, message_id: str) -> HttpResponse:
    message = outbox_message(message_id)
    context = {"mail": message, "text": message.part("plain"), "has_html": message.part("html")}
    return render(request, "portal/dev_outbox/message.html", context)


@require_GET
@debug_only
@xframe_options_sameorigin
@csp(
    {
        # The e-mail's own HTML, framed by dev_outbox_message: no scripts, forms or plugins
        # (sandbox), its inline styles and images, links in a new tab.
        "default-src": [NONE],
        "style-src": ["'unsafe-inline'"],
        "img-src": ["data:", "http:", "https:"],
        "frame-ancestors": [SELF],
        "sandbox": ["allow-popups", "allow-popups-to-escape-sandbox"],
    }
)
def dev_outbox_html(request: HttpRequest, message_id: str) -> HttpResponse:
    html = outbox_message(message_id).part("html")
    if html is None:
        raise Http404("This message has no HTML part.")
    # Links open in a new tab: inside the frame the portal's pages refuse to be framed.
    base = '<base target="_blank">'
    head = re.search(r"<head\b[^>]*>", html, re.IGNORECASE)
    html = html[: head.end()] + base + html[head.end() :] if head else base + html
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response["X-Content-Type-Options"] = "nosniff"
    return response
