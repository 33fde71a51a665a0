"""System checks for settings whose combination matters."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.core.checks import Error, register


@register()
def q_cluster_retry(app_configs, **kwargs):
    """A task must not be handed to a second worker while it may still run."""
    q = settings.Q_CLUSTER
    if q.get("sync"):
        return []
    if q["retry"] < q["timeout"] + 10:
        return [
            Error(
                f"Q_CLUSTER retry ({q['retry']} s) must exceed timeout ({q['timeout']} s) by 10 s "
                "or more, or a running task could be executed twice.",
                id="portal.E001",
            )
        ]
    return []


# A Fernet key is derived from each FERNET_KEYS entry; the entry is the only secret, so it
# must be as hard to guess as a random 32-byte key written out (dev.py writes 43 characters).
MIN_FERNET_KEY_LENGTH = 32
MIN_DISTINCT_CHARACTERS = 12


def fernet_key_weakness(key: str) -> str:
    """Why `key` is too weak to encrypt Stripe keys with ("" when it is strong enough)."""
    if len(key) < MIN_FERNET_KEY_LENGTH:
        return f"it has {len(key)} characters; use at least {MIN_FERNET_KEY_LENGTH} random ones"
    if len(set(key)) < MIN_DISTINCT_CHARACTERS:
        return "it repeats a few characters; use random ones"
    if key.startswith("dev-only-") or key.startswith("test-"):
        return "it is a development or test key"
    return ""


@register()
def fernet_keys_strength(app_configs, **kwargs):
    """Out of development, every key that encrypts the stored Stripe keys must be strong."""
    if settings.DEBUG:
        return []
    errors = []
    for position, key in enumerate(settings.FERNET_KEYS, start=1):
        why = fernet_key_weakness(key)
        if why:
            errors.append(
                Error(
                    f"FERNET_KEYS entry {position} is too weak: {why}.",
                    hint="Generate one with: python3 -c 'import secrets; "
                    "print(secrets.token_urlsafe(32))' (keep the old key after it to rotate).",
                    id="portal.E002",
                )
            )
    if not settings.FERNET_KEYS:
        errors.append(Error("FERNET_KEYS is empty.", id="portal.E002"))
    return errors


@register()
def trusted_proxies_valid(app_configs, **kwargs):
    """Every TRUSTED_PROXIES entry is an address or network (else every request would fail)."""
    errors = []
    for entry in settings.TRUSTED_PROXIES:
        try:
            ipaddress.ip_network(entry.strip(), strict=False)
        except ValueError:
            errors.append(
                Error(
                    f"TRUSTED_PROXIES entry {entry!r} is not an address or network.",
                    hint="Write addresses (10.0.0.5) or networks (10.0.0.0/8), comma separated.",
                    id="portal.E003",
                )
            )
    if settings.TRUSTED_PROXY_COUNT < 0:
        errors.append(Error("TRUSTED_PROXY_COUNT cannot be negative.", id="portal.E003"))
    return errors
