"""A small client for the sandbox's control API (``/_sandbox/``), using only the standard library.

Safe to import anywhere (no Django, no aiohttp). Every method raises ``SandboxControlError`` when
the sandbox answers an error.

From a shell (e.g. the portal's ``dev.py``, which registers the demo account's keys)::

    python -m stripe_sandbox.control [--url http://127.0.0.1:12111] register-key SECRET_KEY \
        [--publishable-key PK] [--account '{"id": "acct_...", "name": "..."}']

prints the account as JSON; exit status 1 with the reason when the sandbox refuses or cannot be
reached. Settling a processing ACH (us_bank_account) payment by hand, in development::

    stripe-sandbox ach settle pi_...                 (or python -m stripe_sandbox.control ach ...)
    stripe-sandbox ach fail pi_... [--code account_closed]   [--url http://127.0.0.1:12111]

``settle`` succeeds unless the payment's test account number fails (Stripe's test accounts);
``fail`` returns the debit with ``--code`` (default insufficient_funds). Either way the sandbox
emits and delivers the events Stripe would, and the command prints the PaymentIntent's status.
"""

from __future__ import annotations

import argparse
import html.parser
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from typing import Any


class SandboxControlError(RuntimeError):
    """The control API answered an error (``status`` and the decoded ``body``)."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"stripe sandbox control API answered {status}: {body!r}")
        self.status = status
        self.body = body


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class _FormFields(html.parser.HTMLParser):
    """The hidden inputs of the OAuth consent page."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self.action: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form":
            self.action = values.get("action")
        if tag == "input" and values.get("type") == "hidden" and values.get("name"):
            self.fields[values["name"] or ""] = values.get("value") or ""


class SandboxControl:
    """Drive a running sandbox: reset it, register keys, inject faults, read the logs."""

    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, path: str, body: Any = None, query: dict[str, Any] | None = None):
        url = f"{self.base_url}/_sandbox/{path}"
        if query:
            url += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                decoded: Any = json.loads(raw)
            except ValueError:
                decoded = raw.decode(errors="replace")
            raise SandboxControlError(exc.code, decoded) from None

    def reset(self) -> None:
        """Wipe all data, keys, faults, logs and webhook endpoints; the rate limit returns to
        the server's default (on for the ``stripe-sandbox`` command, off in tests)."""
        self._call("POST", "reset", {})

    def register_key(
        self,
        secret_key: str,
        *,
        publishable_key: str | None = None,
        account: dict[str, Any] | None = None,
        permissions: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Register ``secret_key`` (``sk_`` or restricted ``rk_`` with ``permissions``) and
        ``publishable_key`` for ``account`` (id?, name, country, default_currency, email; an
        existing id adds keys to that account). Returns the account as ``GET /v1/account``."""
        body = {
            "secret_key": secret_key,
            "publishable_key": publishable_key,
            "account": account,
            "permissions": permissions,
        }
        return self._call("POST", "keys", body)

    def revoke_key(self, secret_key: str) -> None:
        """Calls with ``secret_key`` get 401 from now on."""
        self._call("POST", "keys/revoke", {"secret_key": secret_key})

    def inject_fault(
        self, *, method: str, path: str, kind: str, count: int = 1, delay: float = 0.0
    ) -> list[dict[str, Any]]:
        """The next ``count`` calls to ``method`` ``path`` (``*`` suffix: prefix) get ``kind``:
        ``"429"``, ``"500"`` (before execution, not saved for the idempotency key),
        ``"500_after_execution"`` (the request is executed, its 500 saved and replayed for the
        key), ``"500_in_execution"`` (a 500 saved and replayed, nothing made),
        ``"lost_response"`` or ``"delay"``, after ``delay`` seconds. Returns the pending
        rules."""
        body = {"method": method, "path": path, "kind": str(kind), "count": count, "delay": delay}
        return self._call("POST", "faults", body)

    def faults(self) -> list[dict[str, Any]]:
        """The pending fault rules."""
        return self._call("GET", "faults")

    def clear_faults(self) -> None:
        """Drop all pending fault rules."""
        self._call("DELETE", "faults")

    def set_rate_limit(
        self, *, enabled: bool | None = True, test: int | None = None, live: int | None = None
    ) -> dict[str, Any]:
        """Stripe's per-account rate limit: on or off, and at most ``test`` / ``live`` requests
        per second for each account (Stripe's 25 and 100 until ``reset()``); calls beyond it get
        429 ``rate_limit``. Returns ``{"enabled", "test", "live", "refused"}``."""
        return self._call("POST", "rate_limit", {"enabled": enabled, "test": test, "live": live})

    def rate_limit(self) -> dict[str, Any]:
        """The rate limit in force and how many calls it refused since the last reset."""
        return self._call("GET", "rate_limit")

    def requests(self, path: str | None = None, method: str | None = None) -> list[dict[str, Any]]:
        """The API calls received, oldest first (see ``stripe_sandbox.request_log``)."""
        return self._call("GET", "requests", query={"path": path, "method": method})

    def keep_responses(self, enabled: bool = True) -> bool:
        """From now until the next reset, log entries carry ``response`` (the decoded JSON
        answer), e.g. to check the answers against Stripe's OpenAPI schema."""
        return self._call("POST", "requests/keep_responses", {"enabled": enabled})["enabled"]

    def deliveries(self, *, wait: float = 0.0) -> list[dict[str, Any]]:
        """The webhook delivery log; with ``wait``, after deliveries in flight finished (at most
        ``wait`` seconds)."""
        return self._call("GET", "deliveries", query={"wait": wait or None})

    def set_webhook_retries(self, delays: list[float]) -> list[float]:
        """Seconds to wait before each retry of a failed delivery (``[]``: no retries;
        default ``[0.2, 0.5, 1.0]``, restored by ``reset()``)."""
        return self._call("POST", "webhook_retries", {"delays": list(delays)})["delays"]

    def resend_event(self, event_id: str, endpoint: str | None = None) -> dict[str, Any]:
        """Deliver event ``event_id`` again to its account's endpoints (or only ``endpoint``),
        like the Dashboard's "Resend"; returns ``{"event", "account", "endpoints"}``."""
        return self._call("POST", f"events/{event_id}/resend", {"endpoint": endpoint})

    def register_platform(
        self,
        client_id: str,
        secret_key: str,
        account: dict[str, Any] | None = None,
        *,
        redirect_uri: str | None = None,
        next_connected_account: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Make the account of ``secret_key`` (registered now unless known, with ``account``
        fields) a Connect platform with ``client_id`` (``ca_...``). ``redirect_uri`` is used
        when the authorize URL has none. Returns ``{"client_id", "account"}``."""
        body = {
            "client_id": client_id,
            "secret_key": secret_key,
            "account": account,
            "redirect_uri": redirect_uri,
            "next_connected_account": next_connected_account,
        }
        return self._call("POST", "platforms", body)

    def set_next_connected_account(
        self, client_id: str, account: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Queue the account the next OAuth grant to ``client_id`` connects: an existing id
        (``{"id": "acct_..."}``), fields of a new one, or None for a fresh one. Returns it."""
        return self._call(
            "POST", f"platforms/{client_id}/next_connected_account", {"account": account}
        )

    def platforms(self) -> list[dict[str, Any]]:
        """The platforms with their connections."""
        return self._call("GET", "platforms")

    def oauth_decide(self, authorize_url: str, grant: bool = True) -> str:
        """Open the OAuth consent page at ``authorize_url`` and press "Grant access" (or
        "Deny"); returns the redirect ``Location`` (the platform's redirect_uri with ``code`` or
        ``error``), without following it."""
        with urllib.request.urlopen(authorize_url, timeout=self.timeout) as response:  # noqa: S310
            parser = _FormFields()
            parser.feed(response.read().decode())
        fields = dict(parser.fields, decision="grant" if grant else "deny")
        split = urllib.parse.urlsplit(authorize_url)
        action = f"{split.scheme}://{split.netloc}{parser.action or split.path}"
        request = urllib.request.Request(
            action, data=urllib.parse.urlencode(fields).encode(), method="POST"
        )
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            opener.open(request, timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            if exc.code == 302:
                return exc.headers["Location"]
            raise SandboxControlError(exc.code, exc.read().decode(errors="replace")) from None
        raise SandboxControlError(200, "the consent page did not redirect")

    def set_balance(
        self,
        secret_key: str | None = None,
        available: list[dict[str, Any]] | None = None,
        pending: list[dict[str, Any]] | None = None,
        *,
        account: str | None = None,
    ) -> dict[str, Any]:
        """Set the balance of the account of ``secret_key`` (or ``account`` id):
        ``available=[{"amount": 12345, "currency": "usd"}]``; ``pending`` is added to the net
        of the account's succeeded charges (None: only those)."""
        body = {
            "secret_key": secret_key,
            "account": account,
            "available": available or [],
            "pending": pending or [],
        }
        return self._call("POST", "balance", body)

    def add_external_account(
        self,
        secret_key: str | None = None,
        *,
        account: str | None = None,
        bank_name: str = "STRIPE TEST BANK",
        last4: str = "6789",
        status: str = "verified",
        currency: str = "usd",
        country: str = "US",
        routing_number: str | None = None,
        account_holder_name: str | None = None,
    ) -> dict[str, Any]:
        """Add a payout bank account to the account of ``secret_key`` (or ``account`` id);
        ``status`` is new, validated, verified, verification_failed or errored. Returns it in
        Stripe's ``bank_account`` shape."""
        body = {
            "secret_key": secret_key,
            "account": account,
            "bank_name": bank_name,
            "last4": last4,
            "status": status,
            "currency": currency,
            "country": country,
            "routing_number": routing_number,
            "account_holder_name": account_holder_name,
        }
        return self._call("POST", "external_accounts", body)

    def ach_settle(self, payment_intent: str, failure_code: str | None = None) -> dict[str, Any]:
        """Settle the ``processing`` ACH (us_bank_account) PaymentIntent ``payment_intent``: it
        succeeds, or fails as its test account number says (``000111111113`` account_closed,
        ``000222222227`` insufficient_funds) or as ``failure_code`` forces. Events are emitted
        and delivered like the others. Returns the PaymentIntent."""
        body = {"payment_intent": payment_intent, "failure_code": failure_code}
        return self._call("POST", "ach/settle", body)

    def ach_settle_all(
        self, secret_key: str | None = None, *, account: str | None = None
    ) -> list[dict[str, Any]]:
        """Settle every processing ACH PaymentIntent of the account of ``secret_key`` (or
        ``account`` id), oldest first; returns them."""
        body = {"secret_key": secret_key, "account": account}
        return self._call("POST", "ach/settle_all", body)["settled"]


# The return codes ``ach fail`` can force (stripe_sandbox.ach.settlement.FAILURES).
ACH_FAILURE_CODES = ("account_closed", "debit_not_authorized", "insufficient_funds", "no_account")


def _ach(control: SandboxControl, args: argparse.Namespace) -> str:
    """Settle or fail one ACH payment; the line to print."""
    if not args.payment_intent.startswith("pi_"):
        raise SandboxControlError(
            400, "give the PaymentIntent's id (pi_...), shown on the payment's page in the portal"
        )
    code = args.code if args.action == "fail" else None
    intent = control.ach_settle(args.payment_intent, failure_code=code)
    error = intent.get("last_payment_error") or {}
    reason = f" ({error.get('code')}: {error.get('message')})" if error else ""
    return f"{intent['id']}: {intent['status']}{reason}"


def main(argv: Sequence[str] | None = None, prog: str = "python -m stripe_sandbox.control") -> int:
    """The command line (see the module's docstring)."""
    parser = argparse.ArgumentParser(prog=prog, description="Drive a running Stripe sandbox.")
    parser.add_argument(
        "--url", default="http://127.0.0.1:12111", help="the sandbox (default: %(default)s)"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    register = commands.add_parser(
        "register-key", help="register an API key (and its account); prints the account"
    )
    register.add_argument("secret_key", help="sk_test_..., sk_live_... (or rk_ with --permissions)")
    register.add_argument("--publishable-key", help="pk_test_... or pk_live_...")
    register.add_argument(
        "--account",
        type=json.loads,
        help="the account as JSON: id (an existing id adds the keys to it), name, country, "
        "default_currency, email",
    )
    register.add_argument(
        "--permissions", type=json.loads, help="a restricted key's permissions as JSON"
    )
    ach = commands.add_parser(
        "ach",
        help="settle or fail a processing ACH (us_bank_account) payment; prints its new status",
    )
    ach.add_argument(
        "action",
        choices=["settle", "fail"],
        help="settle: it succeeds (unless its test account number fails); fail: it is returned",
    )
    ach.add_argument("payment_intent", help="the PaymentIntent's id, pi_...")
    # After the subcommand too (stripe-sandbox ach settle pi_... --url ...).
    ach.add_argument("--url", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    ach.add_argument(
        "--code",
        choices=ACH_FAILURE_CODES,
        default="insufficient_funds",
        help="with fail: the return code (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    control = SandboxControl(args.url)
    if args.command == "ach":
        try:
            print(_ach(control, args))
        except (SandboxControlError, OSError) as exc:
            body = getattr(exc, "body", None)
            reason = body.get("error", body) if isinstance(body, dict) else (body or exc)
            print(f"{parser.prog}: {args.url}: {reason}", file=sys.stderr)
            return 1
        return 0
    try:
        account = control.register_key(
            args.secret_key,
            publishable_key=args.publishable_key,
            account=args.account,
            permissions=args.permissions,
        )
    except (SandboxControlError, OSError) as exc:
        print(f"{parser.prog}: {args.url}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(account))
    return 0


if __name__ == "__main__":
    sys.exit(main())
