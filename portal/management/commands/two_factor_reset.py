"""`manage.py two_factor_reset <username>`: for a user who lost the phone and the recovery
codes. Removes the user's two-factor devices; the user then logs in with the password alone
and sets it up again (a workspace that requires it asks at once)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from portal.two_factor import two_factor_reset


class Command(BaseCommand):
    help = "Remove a user's two-factor sign-in devices (authenticator app and recovery codes)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username: str, **options):
        model = get_user_model()
        try:
            user = model._default_manager.get_by_natural_key(username)
        except model.DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        removed = two_factor_reset(user)
        if not removed:
            self.stdout.write(f"{username} has no two-factor sign-in: nothing removed.")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Removed {removed} two-factor device{'s' if removed != 1 else ''} of {username} "
                "(authenticator app and recovery codes). They log in with their password alone "
                "until they set two-factor sign-in up again."
            )
        )
