"""`python manage.py restore_activation [--world ID] [--force]`: rebuild lost activation sets."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from activation.services.recovery import restore_worlds
from worldservice.api.errors import ServiceError
from worldservice.context import correlation_scope


class Command(BaseCommand):
    help = (
        "Rebuild activation sets that the store lost, from the latest snapshot and the audit "
        "rows after it, at versions above every version ever issued. With --force, rewrite the "
        "sets even when the store still holds them."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--world", metavar="ID", help="Only this world.")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Rewrite the set from its snapshot even when the store still holds it.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with correlation_scope(None):
            try:
                results = restore_worlds(options["world"], force=options["force"])
            except (ServiceError, RuntimeError) as exc:
                raise CommandError(str(exc)) from exc
        for result in results:
            if result.restored:
                self.stdout.write(
                    f"{result.world_id}: restored {result.entries} entries at version "
                    f"{result.version} (snapshot v{result.snapshot_version or 0}, "
                    f"{result.replayed} later changes replayed)"
                )
            else:
                self.stdout.write(f"{result.world_id}: intact at version {result.version}")
        self.stdout.write(f"{sum(r.restored for r in results)} of {len(results)} world(s) restored")
