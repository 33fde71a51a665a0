"""Looking for secrets in what the portal shows and says: pages, headers, e-mails, log records.

A secret counts as shown when the whole of it, or any 12 characters in a row of its secret
part (what follows `sk_test_`, `rk_live_`, `whsec_`), appear. The masks the UI shows on
purpose (`sk_test_...4242`: the prefix and the last 4) do not count.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PIECE = 12
_PREFIX = re.compile(r"^((sk|rk|pk)_(test|live)_|whsec_)")


def pieces(secret: str) -> set[str]:
    """The secret and every PIECE-long run of characters of its secret part."""
    body = secret[_PREFIX.match(secret).end() :] if _PREFIX.match(secret) else secret
    return {secret} | {body[i : i + PIECE] for i in range(len(body) - PIECE + 1)}


class Outputs:
    """Everything collected, as (where, text) pairs."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, where: str, text: str) -> None:
        self.items.append((where, text))

    def response(self, where: str, response) -> None:
        """The body (streamed or not), the headers and the cookies of a test client response."""
        body = b"".join(response.streaming_content) if response.streaming else response.content
        self.add(where, body.decode(errors="replace"))
        self.add(f"{where} [headers]", "\n".join(f"{k}: {v}" for k, v in response.items()))
        self.add(f"{where} [cookies]", response.cookies.output())
        for hop, _ in getattr(response, "redirect_chain", []):
            self.add(f"{where} [redirect]", hop)

    def mails(self, outbox) -> None:
        for message in outbox:
            parts = [message.subject, message.body, message.from_email, *message.to]
            parts += [str(content) for content, _ in getattr(message, "alternatives", [])]
            parts += [f"{k}: {v}" for k, v in message.extra_headers.items()]
            parts += [str(attachment) for attachment in message.attachments]
            self.add(f"e-mail {message.subject!r}", "\n".join(parts))

    def records(self, records: list[logging.LogRecord]) -> None:
        """Each record's formatted message and traceback, its args and its extra fields."""
        formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
        for record in records:
            text = f"{formatter.format(record)}\n{record.args!r}\n{vars(record)!r}"
            self.add(f"log {record.name}", text)

    def leaks(self, secrets: dict[str, str]) -> list[str]:
        """'<where>: <secret's name>' for every output showing a secret."""
        found = []
        wanted = {name: pieces(secret) for name, secret in secrets.items()}
        for where, text in self.items:
            for name, runs in wanted.items():
                if any(run in text for run in runs):
                    found.append(f"{where}: {name}")
        return found


class _EchoHandler(BaseHTTPRequestHandler):
    """Answers every call with an error quoting the API key it was given."""

    status = 400

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        key = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
        error = {"type": "invalid_request_error", "message": f"Invalid API Key provided: {key}"}
        body = json.dumps({"error": {**error, "param": key}}).encode()
        self.send_response(self.server.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Request-Id", "req_echo")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_DELETE = _answer

    def log_message(self, *args) -> None:  # quiet
        pass


@contextlib.contextmanager
def stripe_quoting_the_key(status: int) -> Iterator[str]:
    """A Stripe API on loopback whose errors (`status`) quote the caller's whole key, as
    Stripe's "Invalid API Key provided: ..." once did; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoHandler)
    server.status = status
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
