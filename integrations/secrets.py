"""Re-encrypting the secrets at rest with the first of FERNET_KEYS."""

from __future__ import annotations

from django.apps import apps
from django.db import transaction
from fernet_fields import EncryptedField


def encrypted_fields():
    """(model, [field names]) for every model with encrypted fields."""
    for model in apps.get_models():
        names = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedField)]
        if names:
            yield model, names


def forget_cached_keys() -> None:
    """Fields cache their Fernet keys; make them read FERNET_KEYS again (tests change it)."""
    for model, names in encrypted_fields():
        for name in names:
            field = model._meta.get_field(name)
            for attr in ("keys", "fernet_keys", "fernet"):
                field.__dict__.pop(attr, None)


def secrets_reencrypt() -> int:
    """Decrypt every stored secret with any key and write it back under the first key.

    Returns how many rows were rewritten. One transaction: a key that cannot decrypt some
    row stops the whole rotation before anything changes.
    """
    forget_cached_keys()
    rewritten = 0
    with transaction.atomic():
        for model, names in encrypted_fields():
            # Materialized, not .iterator(): a row that fails to decrypt must not leave a
            # server-side cursor open in the aborted transaction (PostgreSQL).
            for row in list(model._default_manager.only("pk", *names)):
                values = {name: getattr(row, name) for name in names}
                model._default_manager.filter(pk=row.pk).update(**values)
                rewritten += 1
    return rewritten
