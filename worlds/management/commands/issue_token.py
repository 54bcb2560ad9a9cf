"""`python manage.py issue_token USERNAME [...]`: print a new API token as the last line."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from worlds.services.tokens import issue_token


class Command(BaseCommand):
    help = "Issue an API bearer token for USERNAME and print it as the last line of stdout."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--create-user", action="store_true", help="Create the user when it does not exist."
        )
        parser.add_argument(
            "--superuser", action="store_true", help="Make the user a superuser (and staff)."
        )
        parser.add_argument(
            "--perm",
            action="append",
            default=[],
            metavar="APP.CODENAME",
            help="Grant a global permission; may be repeated.",
        )
        parser.add_argument(
            "--group",
            action="append",
            default=[],
            metavar="NAME",
            help="Add the user to a group (created if missing); may be repeated.",
        )
        parser.add_argument(
            "--ttl-days",
            type=int,
            default=None,
            help="Days until the token expires (default: never).",
        )
        parser.add_argument("--name", default="cli", help="A label for the token.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["ttl_days"] is not None and options["ttl_days"] < 1:
            raise CommandError("--ttl-days must be at least 1")
        with transaction.atomic():
            user = self._user(options["username"], create=options["create_user"])
            if options["superuser"]:
                user.is_superuser = True
                user.is_staff = True
                user.save(update_fields=["is_superuser", "is_staff"])
            for dotted in options["perm"]:
                user.user_permissions.add(self._permission(dotted))
            for name in options["group"]:
                group, _ = Group.objects.get_or_create(name=name)
                user.groups.add(group)
            issued = issue_token(
                user=user, actor="cli", name=options["name"], ttl_days=options["ttl_days"]
            )
        self.stdout.write(issued.secret)

    def _user(self, username: str, *, create: bool) -> Any:
        model = get_user_model()
        try:
            return model.objects.get(username=username)
        except model.DoesNotExist:
            if not create:
                raise CommandError(
                    f"user {username!r} does not exist (use --create-user)"
                ) from None
            user = model.objects.create_user(username=username)
            user.set_unusable_password()
            user.save()
            return user

    def _permission(self, dotted: str) -> Permission:
        app_label, _, codename = dotted.partition(".")
        if not app_label or not codename:
            raise CommandError(f"--perm takes APP.CODENAME, got {dotted!r}")
        try:
            return Permission.objects.get(content_type__app_label=app_label, codename=codename)
        except Permission.DoesNotExist:
            raise CommandError(f"no permission {dotted!r}") from None
