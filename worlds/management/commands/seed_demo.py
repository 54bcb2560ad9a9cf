"""`python manage.py seed_demo`: an admin, a demo world with a policy, and an API token.

Safe to run again: existing objects are kept, and the admin password and token are remembered
in `var/demo-credentials.json` so the same ones are printed each time.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from policies.services.inputs import HistoryUpdate, add_bindings, set_decisions, upsert_history
from policies.services.uploads import PolicySource, upload_policy
from worlds.models import World
from worlds.services.tokens import issue_token, user_for_token
from worlds.services.worlds import create_world

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


class Command(BaseCommand):
    help = "Create the demo world, an admin login and an API token (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(settings.VAR_DIR) / "demo-credentials.json"
        remembered = json.loads(path.read_text()) if path.exists() else {}
        with transaction.atomic():
            admin, password = self._admin(remembered.get("password"))
            self._world(admin)
            token = remembered.get("token")
            if not token or user_for_token(token) is None:
                token = issue_token(user=admin, actor="seed_demo", name="demo").secret
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"password": password, "token": token}))
        path.chmod(0o600)
        base = options["base_url"].rstrip("/")
        self.stdout.write(
            "\nWorldService is starting on its embedded default (SQLite, in-process tasks).\n"
            f"  API            {base}/worlds/{DEMO_WORLD}\n"
            f"  Decide         {base}/worlds/{DEMO_WORLD}/decide\n"
            f"  Admin          {base}/admin/   login {ADMIN_USERNAME} / {password}\n"
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

    def _world(self, admin: User) -> None:
        if World.objects.filter(pk=DEMO_WORLD).exists():
            return
        create_world(
            actor=admin,
            world_id=DEMO_WORLD,
            name="Demo world",
            description="Created by seed_demo: a world to try the API on.",
            labels=["demo"],
            approvals_required=0,
        )
        # With no approvals required, the first version becomes the default at once.
        upload_policy(actor=admin, world_id=DEMO_WORLD, source=PolicySource(text=DEMO_POLICY))
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
