"""Prepare a running-service database for bench/decide.py.

Creates (or reuses) a world with a default policy (the `sandbox` preset, made default at once
because the world needs no approvals), bindings, decisions and a history entry with a dataset
fingerprint, so decide walks the whole ladder to `live`; an activation entry when the activation
app offers `activation.services.override_activation`; and a user holding the given role on the
world. It prints a summary on stderr and a fresh API token for that user as the last line of
stdout. It uses the project's services, so audit rows and events are written as in production.
Safe to run again: existing objects are kept and a new token is issued each time.

    uv run python bench/setup_bench_world.py [--world bench] [--strategies 50]
        [--user bench_gateway] [--role reader|operator] [--side long]

Run it with the same environment (DATABASE_URL, REDIS_URL, ...) as the service under test.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "worldservice.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import User  # noqa: E402

from policies.services.inputs import (  # noqa: E402
    HistoryUpdate,
    add_bindings,
    set_decisions,
    upsert_history,
)
from policies.services.uploads import PolicySource, upload_policy  # noqa: E402
from worlds.models import World  # noqa: E402
from worlds.roles import Role  # noqa: E402
from worlds.services.members import set_member_role  # noqa: E402
from worlds.services.tokens import issue_token  # noqa: E402
from worlds.services.worlds import create_world  # noqa: E402

OWNER = "bench_owner"


def _user(username: str) -> User:
    user, created = User.objects.get_or_create(username=username)
    if created:
        user.set_unusable_password()
        user.save()
    return user


def _world(owner: User, world_id: str) -> World:
    world = World.objects.filter(pk=world_id).first()
    if world is not None:
        return world
    return create_world(
        actor=owner,
        world_id=world_id,
        name="Bench world",
        description="Created by bench/setup_bench_world.py for bench/decide.py.",
        labels=["bench"],
        allow_live=True,
        approvals_required=0,
    )


def _inputs(owner: User, world_id: str, strategies: list[str]) -> None:
    add_bindings(actor=owner, world_id=world_id, strategies=strategies)
    set_decisions(actor=owner, world_id=world_id, strategies=strategies[: len(strategies) // 2])
    as_of = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    for index, strategy_id in enumerate(strategies[:5]):
        upsert_history(
            actor=owner,
            world_id=world_id,
            update=HistoryUpdate(
                strategy_id=strategy_id,
                node_id=f"node-{index}",
                interval="1h",
                rows=10_000 + index,
                coverage_bounds=[1_700_000_000, 1_756_371_600],
                conformance_flags={"gaps": 0},
                conformance_warnings=[],
                dataset_fingerprint=f"lake:blake3:bench{index:04d}",
                as_of=as_of - timedelta(minutes=index),
                artifact=None,
            ),
        )


def _activation(owner: User, world_id: str, strategy_id: str, side: str) -> str:
    """Seed one activation entry through the activation service, when it exists yet."""
    try:
        services = importlib.import_module("activation.services")
    except ImportError:
        return "skipped: activation.services does not exist yet"
    override = getattr(services, "override_activation", None)
    if override is None:
        return "skipped: activation.services.override_activation does not exist yet"
    wanted: dict[str, Any] = {
        "actor": owner,
        "world_id": world_id,
        "strategy_id": strategy_id,
        "side": side,
        "active": True,
        "weight": 1.0,
        "reason": "bench fixture",
    }
    parameters = inspect.signature(override).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    arguments = {k: v for k, v in wanted.items() if takes_any or k in parameters}
    try:
        override(**arguments)
    except Exception as exc:  # noqa: BLE001 - the bench can still run without activation
        problem = f"{type(exc).__name__}: {exc}"
        return f"skipped: override_activation{tuple(arguments)} failed: {problem}"
    return f"created {strategy_id}|{side}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--world", default="bench")
    parser.add_argument("--strategies", type=int, default=50, help="Strategies bound.")
    parser.add_argument("--user", default="bench_gateway", help="The token's user.")
    parser.add_argument("--role", choices=("reader", "operator"), default="operator")
    parser.add_argument("--side", choices=("long", "short"), default="long")
    args = parser.parse_args()

    owner = _user(OWNER)
    world = _world(owner, args.world)
    if world.default_policy_version is None:
        upload_policy(actor=owner, world_id=world.id, source=PolicySource(preset="sandbox"))
    strategies = [f"bench-s{n:04d}" for n in range(max(2, args.strategies))]
    _inputs(owner, world.id, strategies)
    activation = _activation(owner, world.id, strategies[0], args.side)
    gateway = _user(args.user)
    set_member_role(
        actor=owner, world_id=world.id, username=gateway.username, role=Role.from_label(args.role)
    )
    issued = issue_token(user=gateway, actor="bench", name="bench")
    world.refresh_from_db()
    summary = {
        "world": world.id,
        "default_policy_version": world.default_policy_version,
        "bindings": len(strategies),
        "decisions": len(strategies) // 2,
        "history_entries": min(5, len(strategies)),
        "user": gateway.username,
        "role": args.role,
        "strategy": strategies[0],
        "side": args.side,
        "activation": activation,
    }
    print(json.dumps(summary), file=sys.stderr)
    print(issued.secret)


if __name__ == "__main__":
    main()
