"""`manage.py reconcile [--days N]`: the daily reconciliation, by hand (exit 1 on an error)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from billing.reconcile import reconcile_all


class Command(BaseCommand):
    help = "Compare the payments ledger with Stripe for every healthy connection and repair it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days", type=int, default=3, help="Compare PaymentIntents created this many days back"
        )

    def handle(self, *args, days: int, **options) -> None:
        if days < 1:
            raise CommandError("--days must be at least 1.")
        reports = reconcile_all(days=days, origin="command")
        for report in reports:
            connection = report.connection
            name = f"{connection.workspace.slug} / {connection}"
            line = f"{name}: {report.summary()}"
            self.stdout.write(self.style.ERROR(line) if report.error else line)
            for difference in report.open_differences:
                self.stdout.write(f"  - {difference['kind']}: {difference['message']}")
        if not reports:
            self.stdout.write("No healthy Stripe connection to reconcile.")
        failed = sum(1 for report in reports if report.error)
        if failed:
            raise CommandError(f"{failed} of {len(reports)} connections could not be reconciled.")
