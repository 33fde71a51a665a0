"""A small client for the sandbox's control API (``/_sandbox/``), using only the standard library.

Safe to import anywhere (no Django, no aiohttp). Every method raises ``SandboxControlError`` when
the sandbox answers an error.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any


class SandboxControlError(RuntimeError):
    """The control API answered an error (``status`` and the decoded ``body``)."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"stripe sandbox control API answered {status}: {body!r}")
        self.status = status
        self.body = body


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
        """Wipe all data, keys, faults, logs and webhook endpoints."""
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
        ``"429"``, ``"500"``, ``"lost_response"`` or ``"delay"``, after ``delay`` seconds.
        Returns the pending rules."""
        body = {"method": method, "path": path, "kind": str(kind), "count": count, "delay": delay}
        return self._call("POST", "faults", body)

    def faults(self) -> list[dict[str, Any]]:
        """The pending fault rules."""
        return self._call("GET", "faults")

    def clear_faults(self) -> None:
        """Drop all pending fault rules."""
        self._call("DELETE", "faults")

    def requests(self, path: str | None = None, method: str | None = None) -> list[dict[str, Any]]:
        """The API calls received, oldest first (see ``integrations.sandbox.request_log``)."""
        return self._call("GET", "requests", query={"path": path, "method": method})

    def deliveries(self, *, wait: float = 0.0) -> list[dict[str, Any]]:
        """The webhook delivery log; with ``wait``, after deliveries in flight finished (at most
        ``wait`` seconds)."""
        return self._call("GET", "deliveries", query={"wait": wait or None})
