"""`python manage.py seed_demo`: an admin, two risk-staff logins, a demo world, an API token.

The demo world requires one approval (`approvals_required: 1`), so four-eyes review is on from
the start: its policy was written by the author, approved by the reviewer and then made the
default, and loosening the world's governance is held for review (docs/api.md).

- `author` (staff, group "Risk staff"): writes policy drafts; owner of the demo world.
- `reviewer` (staff, group "Risk staff", so an approver): reviews others' versions and world
  changes; reader of the demo world.

Safe to run again: existing objects are kept, and the passwords and token are remembered in
`var/demo-credentials.json` so the same ones are printed each time.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from policies.services.defaults import set_default_version
from policies.services.inputs import HistoryUpdate, add_bindings, set_decisions, upsert_history
from policies.services.reviews import review_policy
from policies.services.uploads import PolicySource, upload_policy
from worlds.models import ReviewDecision, World
from worlds.roles import Role, world_role
from worlds.services.members import set_member_role
from worlds.services.tokens import issue_token, user_for_token
from worlds.services.worlds import create_world
from worldservice.staff_groups import RISK_STAFF

DEMO_WORLD = "demo"
DEMO_POLICY = """\
# The demo world's policy: see docs/policy-language.md
data_currency:
  max_lag: 1d
sample:
  min_trades: 40
selection:
  gates:
    and:
      - "sharpe >= 0.6"
      - "max_drawdown <= 0.25"
      - or: ["win_rate >= 0.5", "profit_factor >= 1.3"]
  score: "sharpe + 0.1 * win_rate"
  topk: {total: 3}
  hysteresis: {promote_after: 2, demote_after: 2, min_dwell: 1h}
"""
ADMIN_USERNAME = "admin"
AUTHOR_USERNAME = "author"
REVIEWER_USERNAME = "reviewer"
TEAM_ROLES = {AUTHOR_USERNAME: Role.OWNER, REVIEWER_USERNAME: Role.READER}


class Command(BaseCommand):
    help = "Create the demo world, an admin and two staff logins, and an API token (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(settings.VAR_DIR) / "demo-credentials.json"
        remembered = json.loads(path.read_text()) if path.exists() else {}
        logins: dict[str, str] = remembered.get("logins", {})
        with transaction.atomic():
            admin, password = self._admin(remembered.get("password"))
            author, logins[AUTHOR_USERNAME] = self._staff(
                AUTHOR_USERNAME, logins.get(AUTHOR_USERNAME)
            )
            reviewer, logins[REVIEWER_USERNAME] = self._staff(
                REVIEWER_USERNAME, logins.get(REVIEWER_USERNAME)
            )
            self._world(admin, author, reviewer)
            token = remembered.get("token")
            if not token or user_for_token(token) is None:
                token = issue_token(user=admin, actor="seed_demo", name="demo").secret
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"password": password, "token": token, "logins": logins}))
        path.chmod(0o600)
        base = options["base_url"].rstrip("/")
        self.stdout.write(
            "\nWorldService is starting on its embedded default (SQLite, in-process tasks).\n"
            f"  API            {base}/worlds/{DEMO_WORLD}\n"
            f"  Decide         {base}/worlds/{DEMO_WORLD}/decide\n"
            f"  Admin          {base}/admin/   login {ADMIN_USERNAME} / {password}\n"
            f"  Author         login {AUTHOR_USERNAME} / {logins[AUTHOR_USERNAME]}"
            f"   (risk staff: writes policy drafts, owner of {DEMO_WORLD})\n"
            f"  Reviewer       login {REVIEWER_USERNAME} / {logins[REVIEWER_USERNAME]}"
            "   (approver: reviews others' versions and world changes)\n"
            f"  API docs       {base}/docs/   (ReDoc {base}/redoc/)\n"
            f"  Try            curl -H 'Authorization: Bearer {token}' {base}/worlds\n"
            f"  Token          {token}\n"
        )

    def _admin(self, remembered_password: str | None) -> tuple[User, str]:
        admin = User.objects.filter(username=ADMIN_USERNAME).first()
        if admin is not None and remembered_password and admin.check_password(remembered_password):
            return admin, remembered_password
        password = secrets.token_urlsafe(12)
        if admin is None:
            admin = User.objects.create_superuser(ADMIN_USERNAME, "admin@example.test", password)
        else:
            admin.set_password(password)
            admin.save(update_fields=["password"])
        return admin, password

    def _staff(self, username: str, remembered_password: str | None) -> tuple[User, str]:
        """A staff login in the "Risk staff" group, with a remembered password."""
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create_user(username, f"{username}@example.test", is_staff=True)
        password = remembered_password
        if not password or not user.check_password(password):
            password = secrets.token_urlsafe(12)
            user.set_password(password)
            user.save(update_fields=["password"])
        user.groups.add(Group.objects.get(name=RISK_STAFF))
        return user, password

    def _world(self, admin: User, author: User, reviewer: User) -> None:
        if World.objects.filter(pk=DEMO_WORLD).exists():
            self._team(admin, author, reviewer)
            return
        create_world(
            actor=admin,
            world_id=DEMO_WORLD,
            name="Demo world",
            description="Created by seed_demo: a world to try the API on.",
            labels=["demo"],
            approvals_required=1,
        )
        self._team(admin, author, reviewer)
        # Four eyes from the start: the author writes, the reviewer approves, the author (an
        # owner) makes it the default.
        upload_policy(actor=author, world_id=DEMO_WORLD, source=PolicySource(text=DEMO_POLICY))
        review_policy(
            actor=reviewer,
            world_id=DEMO_WORLD,
            version=1,
            decision=ReviewDecision.APPROVE,
            comment="Seeded by seed_demo.",
        )
        set_default_version(actor=author, world_id=DEMO_WORLD, version=1)
        self._inputs(admin)

    def _team(self, admin: User, author: User, reviewer: User) -> None:
        """Give the two staff logins their role on the demo world, unless they have one."""
        for user in (author, reviewer):
            if world_role(user, DEMO_WORLD) is None:
                set_member_role(
                    actor=admin,
                    world_id=DEMO_WORLD,
                    username=user.get_username(),
                    role=TEAM_ROLES[user.get_username()],
                )

    def _inputs(self, admin: User) -> None:
        add_bindings(actor=admin, world_id=DEMO_WORLD, strategies=["momentum_btc", "carry_eth"])
        set_decisions(actor=admin, world_id=DEMO_WORLD, strategies=["momentum_btc"])
        upsert_history(
            actor=admin,
            world_id=DEMO_WORLD,
            update=HistoryUpdate(
                strategy_id="momentum_btc",
                node_id="demo-node",
                interval="1h",
                rows=720,
                dataset_fingerprint="demo-fingerprint-1",
                coverage_bounds=[0, 720],
            ),
        )
