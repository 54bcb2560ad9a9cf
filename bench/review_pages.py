"""Time the review console's pages with 1,000 policy versions in one world.

Prepares (or reuses) the world `bench-review`: `--versions` versions written through the upload
service (so their audit rows exist as in production), the latest reviewed and made the default,
a last draft awaiting review, and `--runs` recorded evaluation runs of `--strategies` strategies
for the simulation. Then it renders each page in process with Django's test client, signed in as
an approver or as the world's owner, and prints one JSON line: per page the best and median
milliseconds of `--repeat` renders, the number of queries, and whether the best render is
within `--limit-ms` (default 300).

    uv run python bench/review_pages.py [--versions 1000] [--runs 20] [--strategies 200]
        [--repeat 5] [--limit-ms 300]

Run it with the environment of the database to use (DATABASE_URL, REDIS_URL, ...): it writes
to that database. Safe to run again: what exists is kept.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "worldservice.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import Group, User  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from policies.models import EvaluationRun, ReviewDecision, WorldPolicy  # noqa: E402
from policies.services.defaults import set_default_version  # noqa: E402
from policies.services.evaluations import (  # noqa: E402
    EvaluationRequest,
    carry_out_evaluation,
    request_evaluation,
)
from policies.services.reviews import review_policy  # noqa: E402
from policies.services.uploads import PolicySource, upload_policy  # noqa: E402
from policies.simulation import DEFAULT_RUNS  # noqa: E402
from worlds.models import World  # noqa: E402
from worlds.services.worlds import create_world  # noqa: E402
from worldservice.staff_groups import OPERATORS, RISK_STAFF  # noqa: E402

WORLD = "bench-review"
TEXT = (
    "selection:\n"
    "  gates:\n"
    "    - sharpe >= {threshold}\n"
    "    - max_drawdown <= 0.3\n"
    "  topk: {{total: 20}}\n"
    "  hysteresis: {{promote_after: 2, demote_after: 2, min_dwell: 1h}}\n"
)


def _user(username: str, group: str) -> User:
    user, created = User.objects.get_or_create(username=username, defaults={"is_staff": True})
    if created:
        user.set_unusable_password()
        user.save()
    user.groups.add(Group.objects.get(name=group))
    return user


def _prepare(versions: int, runs: int, strategies: int) -> tuple[User, User]:
    owner, approver = _user("bench_owner", OPERATORS), _user("bench_approver", RISK_STAFF)
    if not World.objects.filter(pk=WORLD).exists():
        create_world(actor=owner, world_id=WORLD, name="Bench review", approvals_required=1)
    have = WorldPolicy.objects.filter(world_id=WORLD).count()
    for number in range(have, versions):
        text = TEXT.format(threshold=round(0.3 + (number % 50) / 100, 2))
        upload_policy(actor=owner, world_id=WORLD, source=PolicySource(text=text))
    world = World.objects.get(pk=WORLD)
    if world.default_policy_version is None and versions >= 2:
        # The one before last becomes the default; the last stays a draft awaiting review.
        previous = versions - 1
        review_policy(
            actor=approver,
            world_id=WORLD,
            version=previous,
            decision=ReviewDecision.APPROVE,
            comment="bench",
        )
        set_default_version(actor=owner, world_id=WORLD, version=previous)
    _record_runs(owner, runs, strategies)
    return owner, approver


def _record_runs(owner: User, runs: int, strategies: int) -> None:
    have = EvaluationRun.objects.filter(world_id=WORLD).count()
    start = datetime(2030, 1, 1, tzinfo=UTC)
    for number in range(have, runs):
        metrics = {
            f"s{index:04d}": {
                "sharpe": ((index * 37 + number * 11) % 100) / 100,
                "max_drawdown": ((index * 13) % 40) / 100,
                "side": "long" if index % 3 else "short",
            }
            for index in range(strategies)
        }
        run = request_evaluation(
            actor=owner,
            world_id=WORLD,
            request=EvaluationRequest(
                metrics=metrics, as_of=start + timedelta(hours=number), run_id=f"bench-{number}"
            ),
        )
        carry_out_evaluation(run.pk)


def _time(client: Client, url: str, repeat: int, limit_ms: float) -> dict[str, Any]:
    client.get(url)  # warm caches, as any earlier page would
    timings = []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            return {"status": response.status_code, "pass": False}
    best = min(timings)
    return {
        "best_ms": round(best, 1),
        "median_ms": round(statistics.median(timings), 1),
        "queries": len(queries),
        "pass": best <= limit_ms,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--strategies", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--limit-ms", type=float, default=300.0)
    args = parser.parse_args()

    owner, approver = _prepare(args.versions, args.runs, args.strategies)
    last = WorldPolicy.objects.filter(world_id=WORLD).order_by("-version").first()
    if last is None:
        raise SystemExit("no versions were written")
    as_owner, as_approver = Client(), Client()
    as_owner.force_login(owner)
    as_approver.force_login(approver)
    version = (WORLD, last.version)
    pages = {
        "home": (as_approver, reverse("admin:index")),
        "awaiting_review": (as_approver, reverse("admin:awaiting_review")),
        "version_list": (
            as_approver,
            reverse("admin:policies_worldpolicy_changelist") + f"?world__id__exact={WORLD}",
        ),
        "review": (as_approver, reverse("admin:policies_worldpolicy_review", args=version)),
        "compare": (as_approver, reverse("admin:policies_worldpolicy_compare", args=version)),
        "simulation": (
            as_approver,
            reverse("admin:policies_worldpolicy_simulation", args=version),
        ),
        "set_default": (
            as_owner,
            reverse("admin:policies_worldpolicy_set_default", args=version),
        ),
        "new_version": (as_owner, reverse("admin:policies_worldpolicy_new", args=[WORLD])),
        "world_page": (as_owner, reverse("admin:worlds_world_change", args=[WORLD])),
    }
    results = {
        name: _time(client, url, args.repeat, args.limit_ms)
        for name, (client, url) in pages.items()
    }
    setup = {
        "versions": WorldPolicy.objects.filter(world_id=WORLD).count(),
        "runs": EvaluationRun.objects.filter(world_id=WORLD).count(),
        "strategies": args.strategies,
        "simulation_runs": DEFAULT_RUNS,
    }
    report = {
        "setup": setup,
        "results": results,
        "pass": all(r["pass"] for r in results.values()),
    }
    print(json.dumps(report))  # noqa: T201


if __name__ == "__main__":
    main()
