"""Time 2-phase applies that switch a 1,000-strategy world, end to end through a real worker.

Starts nothing itself: point it at a running service (web + Celery worker) and a token with the
operator role on the world. It applies a plan activating N strategies, then one that swaps them
all for N others (2N entries frozen, switched and unfrozen), timing each from the request to the
`completed` phase, and prints JSON.

    uv run python bench/apply.py --base-url http://127.0.0.1:8078 --token TOKEN --world bench
"""

from __future__ import annotations

import argparse
import json
import time
import urllib.request
import uuid
from typing import Any

TARGET_SECONDS = 3.0


def call(base: str, token: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 - the bench talks to a loopback service
        base + path,
        data=data,
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def timed_apply(base: str, token: str, world: str, plan: dict[str, list[str]]) -> dict[str, Any]:
    run_id = f"bench-{uuid.uuid4().hex[:12]}"
    started = time.perf_counter()
    status, body = call(
        base, token, "POST", f"/worlds/{world}/apply", {"run_id": run_id, "plan": plan}
    )
    while status == 202 or (
        status == 200 and body.get("phase") not in ("completed", "rolled_back")
    ):
        time.sleep(0.05)
        status, body = call(base, token, "GET", f"/worlds/{world}/apply/{run_id}")
    seconds = time.perf_counter() - started
    if status != 200 or body.get("phase") != "completed":
        raise SystemExit(f"apply {run_id} did not complete: {status} {body}")
    return {
        "run_id": run_id,
        "seconds": round(seconds, 3),
        "entries": len(plan["activate"]) + len(plan["deactivate"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base-url", default="http://127.0.0.1:8078")
    parser.add_argument("--token", required=True)
    parser.add_argument("--world", default="bench")
    parser.add_argument("--strategies", type=int, default=1000)
    args = parser.parse_args()
    base = args.base_url.rstrip("/")
    first = [f"a{i:05d}" for i in range(args.strategies)]
    second = [f"b{i:05d}" for i in range(args.strategies)]
    status, current = call(base, args.token, "GET", f"/worlds/{args.world}/decisions")
    if status != 200:
        raise SystemExit(f"cannot read the world's decisions: {status} {current}")
    runs = [
        timed_apply(
            base, args.token, args.world, {"activate": first, "deactivate": current["strategies"]}
        ),
        timed_apply(base, args.token, args.world, {"activate": second, "deactivate": first}),
    ]
    worst = max(run["seconds"] for run in runs)
    print(
        json.dumps(
            {
                "strategies": args.strategies,
                "runs": runs,
                "target_seconds": TARGET_SECONDS,
                "pass": worst <= TARGET_SECONDS,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
