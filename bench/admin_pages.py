"""Time the admin pages of one big world, rendered through the Django test client.

Seeds (once; `--reseed` is not offered: drop the database instead) one world with 1,000 policy
versions, 100,000 audit rows (a valid hash chain) and 1,000 activation entries, plus a handful of
finished apply runs. Versions after the first, the audit rows and the apply runs are bulk-inserted;
the first version, its review, the default and the activation set go through the services, so
the audit rows, events and snapshot they write are real. Then every page of PAGES is requested
`--warmup` times untimed and `--repeat` times timed, each as the user it is meant for; the script
prints one line per page (median and max wall time, median CPU time of this process, queries,
bytes) and a JSON summary. On a shared machine the CPU time moves least with other load: the
wall time also counts waiting for a core, and for PostgreSQL and Redis.

    uv run python bench/admin_pages.py [--world adminbench] [--repeat 15] [--warmup 3]
        [--only SUBSTRING] [--fail-on-miss]

Run it against a database of its own (DATABASE_URL; PostgreSQL, as in production, with REDIS_URL
for the activation store): seeding adds 100,000 rows. Target: every page under 300 ms (median
and max). To time another page, add a line to PAGES; its URL may use {world}, {policy_pk}
(the default version's primary key) and {version} (its number).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "worldservice.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import Permission, User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, reset_queries, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from activation.models import ApplyRun  # noqa: E402
from activation.services.changes import publish_changes  # noqa: E402
from activation.services.recovery import ensure_ready  # noqa: E402
from activation.services.snapshots import take_snapshot  # noqa: E402
from activation.store import get_store  # noqa: E402
from policies.management.commands.seed_demo import DEMO_POLICY as POLICY  # noqa: E402
from policies.models import PolicyApproval, ReviewDecision, WorldPolicy  # noqa: E402
from policies.services.defaults import set_default_version  # noqa: E402
from policies.services.reviews import review_policy  # noqa: E402
from policies.services.uploads import PolicySource, checksum_of, upload_policy  # noqa: E402
from worlds.audit import hash_of_row  # noqa: E402
from worlds.models import World, WorldAuditLog  # noqa: E402
from worlds.roles import Role  # noqa: E402
from worlds.services.lookup import locked_world  # noqa: E402
from worlds.services.members import grant_role  # noqa: E402
from worlds.services.worlds import create_world  # noqa: E402
from worldservice.canonical import json_safe  # noqa: E402
from worldservice.clock import rfc3339  # noqa: E402
from worldservice.locks import lock_for_transaction  # noqa: E402

TARGET_MS = 300.0
VERSIONS = 1_000
AUDIT_ROWS = 100_000
STRATEGIES = 500  # × 2 sides = 1,000 activation entries
APPLY_RUNS = 12
# Audit events the synthetic rows cycle through: not the activation ones, whose rows the
# point-in-time replay reads as writes.
SYNTHETIC_EVENTS = (
    "evaluation_recorded",
    "world_updated",
    "decisions_set",
    "history_upserted",
    "bindings_added",
    "member_changed",
)


@dataclass(frozen=True)
class Page:
    name: str
    url: str
    user: str  # "admin", "auditor" or "operator"


PAGES = [
    Page("admin home", "/admin/", "admin"),
    Page("world page", "/admin/worlds/world/{world}/change/", "admin"),
    Page("policy versions list", "/admin/policies/worldpolicy/?world__id__exact={world}", "admin"),
    Page("a version's page", "/admin/policies/worldpolicy/{world}/v{version}/", "admin"),
    Page(
        "Compare with (the next version)",
        "/admin/policies/worldpolicy/{world}/v{version}/compare/?against=2",
        "admin",
    ),
    Page("Awaiting my review", "/admin/awaiting-review/", "admin"),
    Page("audit list, first page", "/admin/worlds/worldauditlog/", "auditor"),
    Page(
        "audit list, filtered",
        "/admin/worlds/worldauditlog/?world__id__exact={world}&event=decisions_set&actor=bench_owner",
        "auditor",
    ),
    Page(
        "audit list, page 50 of a world",
        "/admin/worlds/worldauditlog/?world__id__exact={world}&p=50",
        "auditor",
    ),
    Page("activation console", "/admin/activation/activationcounter/console/{world}/", "operator"),
]


def _user(username: str, **fields: Any) -> User:
    user, created = User.objects.get_or_create(username=username, defaults=fields)
    if created:
        user.set_unusable_password()
        user.save()
    return user


def _users(world_id: str) -> dict[str, User]:
    admin = _user("bench_admin", is_staff=True, is_superuser=True)
    auditor = _user("bench_auditor", is_staff=True)
    auditor.user_permissions.add(
        Permission.objects.get(content_type__app_label="worlds", codename="view_worldauditlog")
    )
    operator = _user("bench_operator", is_staff=True)
    world = World.objects.filter(pk=world_id).first()
    if world is not None:
        grant_role(world=world, user=operator, role=Role.OPERATOR)
    return {"admin": admin, "auditor": auditor, "operator": operator}


def _seed_policies(world_id: str, owner: User, reviewer: User) -> None:
    first = upload_policy(actor=owner, world_id=world_id, source=PolicySource(text=POLICY))
    review_policy(
        actor=reviewer,
        world_id=world_id,
        version=first.version,
        decision=ReviewDecision.APPROVE,
        comment="bench",
    )
    set_default_version(actor=owner, world_id=world_id, version=first.version)
    versions = []
    for version in range(2, VERSIONS + 1):
        text = POLICY + f"# revision {version}\n"
        versions.append(
            WorldPolicy(
                world_id=world_id,
                version=version,
                yaml=text,
                document=first.document,
                checksum=checksum_of(text),
                created_by=owner,
            )
        )
    created = WorldPolicy.objects.bulk_create(versions, batch_size=500)
    PolicyApproval.objects.bulk_create(
        PolicyApproval(policy=policy, user=reviewer, decision=ReviewDecision.APPROVE, comment="ok")
        for policy in created[::10]
    )


def _seed_activation(world_id: str, operator: User) -> None:
    ensure_ready(world_id, wait_seconds=5)
    changes = {
        (f"bench-s{index:04d}", side): {
            "active": index % 3 != 0,
            "weight": round((index % 10) / 10, 1),
            "effective_mode": "paper",
            "run_id": "bench-seed",
        }
        for index in range(STRATEGIES)
        for side in ("long", "short")
    }
    with transaction.atomic():
        locked_world(world_id)
        outcome = get_store().apply_changes(world_id, changes)
        publish_changes(
            actor=operator.get_username(), outcome=outcome, cause="override", reason="bench seed"
        )
        take_snapshot(world_id, reason="bench")
    now = timezone.now()
    runs = []
    for number in range(APPLY_RUNS):
        start = now - dt.timedelta(hours=APPLY_RUNS - number)
        stages = [
            {"stage": stage, "at": rfc3339(start + dt.timedelta(seconds=offset))}
            for stage, offset in (
                ("requested", 0),
                ("freeze", 0.4),
                ("switch", 1.1),
                ("unfreeze", 1.6),
                ("completed", 1.7),
            )
        ]
        runs.append(
            ApplyRun(
                world_id=world_id,
                run_id=f"bench-run-{number:03d}",
                fingerprint="sha256:0",
                request={},
                phase="completed",
                ok=True,
                stages=stages,
                actor=operator.get_username(),
                lease_expires_at=start,
                finished_at=start + dt.timedelta(seconds=1.7),
            )
        )
    for run in ApplyRun.objects.bulk_create(runs):  # created_at is set on insert: move it back
        ApplyRun.objects.filter(pk=run.pk).update(created_at=run.lease_expires_at)


def _seed_audit(world_id: str) -> None:
    """AUDIT_ROWS rows chained after the world's last row, as `record_audits` would chain them."""
    with transaction.atomic():
        lock_for_transaction(f"audit:{world_id}")
        last = WorldAuditLog.objects.filter(world_id=world_id).order_by("-id").first()
        previous = last.hash if last else ""
        start = timezone.now() - dt.timedelta(seconds=AUDIT_ROWS // 10)
        batch: list[WorldAuditLog] = []
        for index in range(AUDIT_ROWS):
            event = SYNTHETIC_EVENTS[index % len(SYNTHETIC_EVENTS)]
            row = WorldAuditLog(
                world_id=world_id,
                actor=("bench_owner", "bench_operator", "system")[index % 3],
                event=event,
                request=json_safe({"n": index, "strategies": [f"bench-s{index % STRATEGIES:04d}"]}),
                result=json_safe({"ok": True, "n": index, "note": "synthetic bench row"}),
                created_at=start + dt.timedelta(milliseconds=100 * index),
                correlation_id=f"bench-{index // 5:06d}",
                prev_hash=previous,
            )
            row.hash = hash_of_row(row)
            previous = row.hash
            batch.append(row)
            if len(batch) == 5_000:
                WorldAuditLog.objects.bulk_create(batch)
                batch = []
        WorldAuditLog.objects.bulk_create(batch)


def seed(world_id: str) -> None:
    if World.objects.filter(pk=world_id).exists():
        print(f"world {world_id!r} exists: not seeding again", file=sys.stderr)
        return
    started = time.perf_counter()
    owner = _user("bench_owner")
    owner.user_permissions.add(Permission.objects.get(codename="add_world"))
    reviewer = _user("bench_reviewer")
    reviewer.user_permissions.add(Permission.objects.get(codename="approve_worldpolicy"))
    create_world(actor=owner, world_id=world_id, name="Admin bench", approvals_required=1)
    users = _users(world_id)
    _seed_policies(world_id, owner, reviewer)
    _seed_audit(world_id)
    _seed_activation(world_id, users["operator"])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # what autovacuum does soon after a bulk load
            for table in ("worlds_worldauditlog", "policies_worldpolicy", "activation_applyrun"):
                cursor.execute(f"VACUUM ANALYZE {table}")
    print(f"seeded {world_id!r} in {time.perf_counter() - started:.1f} s", file=sys.stderr)


def _render(client: Client, url: str) -> tuple[int, int]:
    response = client.get(url)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response.status_code, len(body)


def time_page(client: Client, url: str, warmup: int, repeat: int) -> dict[str, Any]:
    for _ in range(warmup):
        status, _ = _render(client, url)
        if status != 200:
            return {"status": status}
    reset_queries()  # each request starts the log afresh: count from an empty one
    with CaptureQueriesContext(connection) as queries:
        _, size = _render(client, url)
    query_count = len(queries)  # read now: the next request clears the log it reads from
    timings = []
    cpu = []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        _render(client, url)
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return {
        "status": 200,
        "median_ms": round(statistics.median(timings), 1),
        "max_ms": round(max(timings), 1),
        "min_ms": round(min(timings), 1),
        "cpu_median_ms": round(statistics.median(cpu), 1),
        "queries": query_count,
        "bytes": size,
    }


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--world", default="adminbench")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--only", default="", help="time only pages whose name contains this")
    parser.add_argument("--fail-on-miss", action="store_true")
    return parser.parse_args()


def _signed_in_clients(world_id: str) -> dict[str, Client]:
    clients = {}
    for role, user in _users(world_id).items():
        clients[role] = Client()
        clients[role].force_login(user)
    return clients


def _print_page(name: str, result: dict[str, Any]) -> None:
    if result["status"] != 200:
        print(f"{name:32} HTTP {result['status']}  {result['url']}")
        return
    print(
        f"{name:32} median {result['median_ms']:7.1f} ms  max {result['max_ms']:7.1f} ms"
        f"  cpu {result['cpu_median_ms']:6.1f} ms"
        f"  {result['queries']:3d} queries  {result['bytes']:8d} bytes"
        f"  {'ok' if result['pass'] else 'MISS'}"
    )


def time_pages(args: argparse.Namespace) -> dict[str, Any]:
    """Every page of PAGES (or those `--only` names), timed and printed one by one."""
    clients = _signed_in_clients(args.world)
    default = WorldPolicy.objects.get(world_id=args.world, status="ACTIVE")
    results: dict[str, Any] = {}
    for page in PAGES:
        if args.only not in page.name:
            continue
        url = page.url.format(world=args.world, policy_pk=default.pk, version=default.version)
        result = time_page(clients[page.user], url, args.warmup, args.repeat)
        result.update(url=url, user=page.user)
        result["pass"] = result["status"] == 200 and result["max_ms"] < TARGET_MS
        results[page.name] = result
        _print_page(page.name, result)
    return results


def main() -> int:
    args = _parse_args()
    seed(args.world)
    if not (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():
        # Pages name hashed static files, as in production: collect them first.
        call_command("collectstatic", interactive=False, verbosity=0)
    results = time_pages(args)
    summary = {"target_ms": TARGET_MS, "repeat": args.repeat, "warmup": args.warmup}
    print(json.dumps({"pages": results, **summary}, indent=2))
    missed = [name for name, result in results.items() if not result["pass"]]
    return 1 if args.fail_on_miss and missed else 0


if __name__ == "__main__":
    sys.exit(main())
