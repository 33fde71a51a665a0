"""``manage.py stripe_sandbox``: run the local Stripe sandbox until Ctrl-C or SIGTERM."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = (
        "Serve the local Stripe-compatible sandbox (localstripe plus the portal's extensions). "
        "Point STRIPE_API_BASE at it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
        parser.add_argument("--port", type=int, default=12111, help="port to listen on")
        parser.add_argument(
            "--data-file",
            default="var/stripe-sandbox.pickle",
            help="where the data is loaded from and saved to ('' to keep it in memory only)",
        )
        parser.add_argument(
            "--no-rate-limit",
            action="store_true",
            help="do not enforce Stripe's per-account rate limit (25 requests/s in test mode, "
            "100 in live mode; lower it through the control API)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # Imported here so that Django can list commands without aiohttp/localstripe loaded.
        from integrations.sandbox.server import serve_forever

        serve_forever(
            options["host"],
            options["port"],
            options["data_file"] or None,
            rate_limit=not options["no_rate_limit"],
        )
