"""Re-encrypt every stored secret with the first key of FERNET_KEYS (see the README)."""

from __future__ import annotations

from cryptography.fernet import InvalidToken
from django.core.management.base import BaseCommand, CommandError

from integrations.secrets import secrets_reencrypt


class Command(BaseCommand):
    help = "Re-encrypt Stripe keys and webhook secrets with the first key of FERNET_KEYS."

    def handle(self, *args, **options):
        try:
            count = secrets_reencrypt()
        except InvalidToken:
            raise CommandError(
                "A stored secret cannot be decrypted with any key of FERNET_KEYS; nothing was "
                "changed. Keep the old key in FERNET_KEYS (after the new one) while rotating."
            ) from None
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {count} rows with the first key."))
