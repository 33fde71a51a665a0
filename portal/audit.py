"""The audit trail: who moved money or changed who can, written next to the change itself.

Every service that charges, refunds, sends or cancels a payment link, processes or voids an
invoice, connects or removes a Stripe account, publishes a workflow, or changes members and
roles calls `audit_record` inside its own transaction, so a change that is rolled back leaves
no entry and an entry never names a change that did not happen. Services have no request:
views hand them `actor` and `address` (`audit_by(request)`); workflows name themselves
("workflow <name>"), and what runs on its own is "system".

Nothing secret is ever stored: keys are masked as the pages show them (`sk_test_...4242`),
and whatever still looks like a key, a signing secret, a client secret or a card number is
masked again here, whoever called.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from django.db import models

from portal.models import AuditEntry, Workspace
from portal.ratelimit import client_address

SYSTEM = "system"

# What must never be stored, even if a caller passes it by mistake.
_KEYS = re.compile(r"\b((?:sk|rk|pk)_(?:test|live)_)([A-Za-z0-9]+)")
_WEBHOOK_SECRET = re.compile(r"\bwhsec_[A-Za-z0-9_]+")
_CLIENT_SECRET = re.compile(r"\b[A-Za-z0-9]+_[A-Za-z0-9]+_secret_[A-Za-z0-9]+")
_CARD_NUMBER = re.compile(r"\b(?:\d ?){12,18}\d\b")


def key_mask(key: str) -> str:
    """`sk_test_...4242`: the prefix and the last four, as the Stripe pages show a key."""
    key = key or ""
    if not key:
        return ""
    match = _KEYS.match(key)
    prefix = match.group(1) if match else key[:3]
    return f"{prefix}...{key[-4:]}"


def _masked(text: str) -> str:
    text = _KEYS.sub(lambda m: f"{m.group(1)}...{m.group(2)[-4:]}", text)
    text = _WEBHOOK_SECRET.sub("whsec_...", text)
    text = _CLIENT_SECRET.sub("[client secret]", text)
    return _CARD_NUMBER.sub("[card number]", text)


def _clean(value: Any) -> Any:
    """JSON-safe, with anything secret-looking masked."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_clean(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, models.Model):
        value = str(value)
    return _masked(str(value))


def changes_between(before: dict, after: dict) -> dict:
    """{"field": {"before": old, "after": new}} for the fields whose values differ (a field
    missing on one side is None there; an empty value is the same as none)."""
    return {
        name: {"before": _or_none(before.get(name)), "after": _or_none(after.get(name))}
        for name in [*before, *(n for n in after if n not in before)]
        if _or_none(before.get(name)) != _or_none(after.get(name))
    }


def _or_none(value):
    return None if value in ("", [], {}) else value


def actor_label(actor) -> str:
    """How an entry names who acted: a user's e-mail (else username), or the text given."""
    if actor is None:
        return SYSTEM
    if isinstance(actor, str):
        return actor or SYSTEM
    return (getattr(actor, "email", "") or actor.get_username())[:200]


def workflow_actor(workflow, *, test_run: bool = False) -> str:
    """How an entry names a workflow that acted: "workflow Pay per lead (test run)"."""
    return f"workflow {workflow.name}" + (" (test run)" if test_run else "")


def _address(address: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((address or "").strip()))
    except ValueError:
        return None


def _label_only(actor) -> str | None:
    """A label as given; an anonymous user (a public page) is nobody in particular."""
    return actor if isinstance(actor, str) else None


def audit_by(request) -> dict:
    """`actor` and `address` of a request, for a service's keyword arguments."""
    user = getattr(request, "user", None)
    actor = user if user is not None and user.is_authenticated else None
    return {"actor": actor, "address": client_address(request)}


def audit_record(
    *,
    workspace: Workspace | None,
    actor,
    address: str | None,
    action: str,
    summary: str,
    changes: dict | None = None,
    obj: models.Model | None = None,
    label: str = "",
) -> AuditEntry:
    """Add one entry. `actor` is a user, a label ("workflow Pay per lead") or None (system).
    `obj` is what changed, named by type and id (and by `label`, else its str()).
    Call it inside the transaction of the change, after the change is made."""
    user = actor if actor is not None and not isinstance(actor, str) else None
    if user is not None and not user.is_authenticated:
        user = None
    return AuditEntry.objects.create(
        workspace=workspace,
        workspace_name=workspace.name if workspace else "",
        workspace_slug=workspace.slug if workspace else "",
        actor=user,
        actor_label=_masked(actor_label(user if user is not None else _label_only(actor))),
        address=_address(address),
        action=str(action),
        summary=_masked(summary)[:500],
        changes=_clean(changes or {}),
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(getattr(obj, "uuid", None) or obj.pk) if obj is not None else "",
        object_label=_masked(label or (str(obj) if obj is not None else ""))[:200],
    )


def audit_entries_filtered(workspace: Workspace, data: dict) -> models.QuerySet[AuditEntry]:
    """The workspace's entries, newest first, narrowed by a valid `AuditFilterForm`'s data
    (dates are days of the viewer's zone, the one active)."""
    entries = AuditEntry.objects.filter(workspace=workspace).select_related("actor")
    if data.get("action"):
        entries = entries.filter(action=data["action"])
    if data.get("person"):
        entries = entries.filter(actor_label=data["person"])
    if data.get("since"):
        entries = entries.filter(created_at__date__gte=data["since"])
    if data.get("until"):
        entries = entries.filter(created_at__date__lte=data["until"])
    return entries.order_by("-created_at", "-id")


def audit_people(workspace: Workspace) -> list[str]:
    """Everyone (and every workflow) who has an entry in the workspace, for the filter."""
    labels = AuditEntry.objects.filter(workspace=workspace).values_list("actor_label", flat=True)
    return sorted(set(labels), key=str.casefold)
