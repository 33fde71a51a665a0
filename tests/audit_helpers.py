"""Reading the audit trail in tests: the entries of an action, and whether any names a secret."""

from __future__ import annotations

import json

from portal.models import AuditEntry

# The test client's address (Django's RequestFactory sets REMOTE_ADDR to it).
CLIENT_ADDRESS = "127.0.0.1"


def entries(action: str | None = None, *, prefix: str = "") -> list[AuditEntry]:
    """The entries, oldest first: of `action`, or of the actions starting with `prefix`."""
    found = AuditEntry.objects.order_by("id").filter(action__startswith=prefix)
    return list(found.filter(action=action) if action else found)


def only(action: str) -> AuditEntry:
    """The one entry of `action` (fails if there are none or several)."""
    (entry,) = entries(action)
    return entry


def everything_stored() -> str:
    """Every entry's text as stored: labels, summaries, changes."""
    return json.dumps(
        list(
            AuditEntry.objects.values(
                "workspace_name", "actor_label", "summary", "changes", "object_label", "object_id"
            )
        ),
        ensure_ascii=False,
    )


def shows_part_of(text: str, secret: str, run: int = 12) -> bool:
    """Whether `text` holds `secret`, or any `run` characters of it in a row."""
    return any(secret[i : i + run] in text for i in range(len(secret) - run + 1))
