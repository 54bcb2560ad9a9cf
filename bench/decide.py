"""Load-test the hot reads with wrk, against a bare Django view under the same server.

For each server asked for (`--servers gunicorn-sync,gunicorn-gthread,granian-wsgi,granian-asgi`,
see bench/servers.py) it starts the service and the bare Django JSON view (bench/bare_app.py)
with 2 workers each, then, for each connection count (1, 8, 32; keep-alive, as the Gateway
connects), runs wrk against every endpoint in turn, interleaved so drift hits them alike:

- `healthz`        GET /healthz                                   (no auth)
- `decide`         GET /worlds/{world}/decide                     (Authorization: Bearer ...)
- `activation`     GET /worlds/{world}/activation?strategy_id=&side=   (with --strategy)
- `activation_set` GET /worlds/{world}/activation                 (the full set)
- `bare`           GET /bare on the bare view: the in-run ceiling

It prints throughput, p50/p95/p99 and CPU per request (the server's processes, from /proc)
and, per server, every endpoint's throughput and CPU as ratios against the bare view. Any answer
other than 200, and any socket error, is a failure, never speed. Without `--servers` it loads an
already running service at `--base-url` (and a bare view at `--bare-url`, if given).

Targets (issue 14): decide and the activation entry at 32 connections ≥ 0.8 × the bare view;
p95 ≤ 5 ms at 32 connections and ≤ 2 ms at 8; every answer 200. On a shared machine, read the
ratios of one run, not absolute figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import servers  # noqa: E402 - after the path is set
from bench.wrk_runner import LUA, run_wrk  # noqa: E402

MODES = ("healthz", "decide", "activation", "activation_set", "bare")
HOT_MODES = ("decide", "activation")
RATIO_LIMIT = 0.8
RATIO_AT = 32
P95_LIMITS_MS = {"8": 2.0, "32": 5.0}
SERVICE_PORT, BARE_PORT = 8571, 8572


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Drive the hot reads with wrk; print JSON.")
    add = parser.add_argument
    add("--servers", default="", help=f"Comma-separated, of {', '.join(servers.SERVERS)}.")
    add("--base-url", default="http://127.0.0.1:8077", help="Without --servers: the service.")
    add("--bare-url", default="", help="Without --servers: a running bare view (optional).")
    add("--token", default=os.environ.get("WORLDSERVICE_TOKEN", ""), help="Bearer token.")
    add("--world", default="bench")
    add("--strategy", default=None, help="Strategy for the activation modes.")
    add("--side", choices=("long", "short"), default="long")
    add("--modes", default=",".join(MODES), help="Comma-separated endpoints.")
    add("--connections", default="1,8,32", help="Comma-separated counts.")
    add("--duration", default="10s", help="wrk -d per run.")
    add("--threads", type=int, default=2, help="wrk -t (at most 2).")
    add("--timeout", default="2s", help="wrk --timeout.")
    add("--warmup", default="2s", help="Unrecorded run per endpoint first ('0' skips).")
    add("--repeat", type=int, default=1, help="Runs per endpoint and count; see --pick.")
    add("--pick", choices=("median", "best"), default="median")
    add("--cpu-pid", action="append", default=[], metavar="NAME=PID", help="Extra processes.")
    add("--log-dir", default=tempfile.gettempdir(), help="Where started servers log.")
    add("--wrk", default=shutil.which("wrk") or "/usr/bin/wrk")
    add("--fail-on-miss", action="store_true", help="Exit 1 if a target misses.")
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    problem = _problem(args)
    if problem:
        parser.error(problem)
    args.cpu_pids = dict(_cpu_pid(item) for item in args.cpu_pid)
    args.connections = [int(c) for c in args.connections.split(",") if c.strip()]
    args.servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    args.modes = _modes(args)
    return args


def _problem(args: argparse.Namespace) -> str | None:
    """What is wrong with the options, or None."""
    checks = [
        (args.repeat < 1, "--repeat must be at least 1"),
        (not 1 <= args.threads <= 2, "--threads must be 1 or 2"),
        (not re.fullmatch(r"\d+[smh]?", args.duration), "--duration takes wrk's form, e.g. 10s"),
        (args.warmup != "0" and not re.fullmatch(r"\d+[smh]?", args.warmup), "bad --warmup"),
        (any(not re.fullmatch(r"[^=]+=\d+", c) for c in args.cpu_pid), "--cpu-pid NAME=PID"),
        (bool(set(args.servers.split(",")) - {"", *servers.SERVERS}), "unknown --servers"),
        (bool(set(args.modes.split(",")) - set(MODES)), f"--modes: of {', '.join(MODES)}"),
    ]
    return next((message for failed, message in checks if failed), None)


def _cpu_pid(item: str) -> tuple[str, int]:
    name, _, pid = item.partition("=")
    return name, int(pid)


def _modes(args: argparse.Namespace) -> list[str]:
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if not args.strategy:
        modes = [m for m in modes if m != "activation"]
    if not args.servers and not args.bare_url:
        modes = [m for m in modes if m != "bare"]
    return modes


def endpoints(args: argparse.Namespace, base: str, bare: str) -> dict[str, tuple[str, bool]]:
    """Mode → (URL, authenticated)."""
    world = f"{base.rstrip('/')}/worlds/{urllib.parse.quote(args.world, safe='')}"
    query = urllib.parse.urlencode({"strategy_id": args.strategy or "", "side": args.side})
    urls = {
        "healthz": (f"{base.rstrip('/')}/healthz", False),
        "decide": (f"{world}/decide", True),
        "activation": (f"{world}/activation?{query}", True),
        "activation_set": (f"{world}/activation", True),
        "bare": (f"{bare.rstrip('/')}/bare", False),
    }
    return {mode: urls[mode] for mode in args.modes}


def preflight(url: str, headers: dict[str, str]) -> dict[str, Any]:
    """One plain request: does the endpoint answer 200 before we load it?"""
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - http(s) base URL
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            status, body = response.status, response.read(400)
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read(400)
    except (urllib.error.URLError, OSError) as exc:
        return {"status": None, "error": f"{type(exc).__name__}: {exc}"}
    return {"status": status, "body": body.decode("utf-8", "replace")}


def measure(
    args: argparse.Namespace, urls: dict[str, tuple[str, bool]], cpu_roots: dict[str, dict]
) -> dict[str, Any]:
    """Every endpoint at every connection count (interleaved, `--repeat` times)."""
    auth = {"Authorization": f"Bearer {args.token}"}
    checks = {mode: preflight(url, auth if signed else {}) for mode, (url, signed) in urls.items()}
    measured = [mode for mode, check in checks.items() if check["status"] == 200]
    results: dict[str, Any] = {m: {"available": False, **checks[m]} for m in urls}
    with tempfile.TemporaryDirectory(prefix="wsbench-") as tmp:
        script = Path(tmp) / "report.lua"
        script.write_text(LUA)
        load = _loader(args, script, urls, auth, cpu_roots)
        results.update(_load_all(args, load, measured))
    return results


def _load_all(args: argparse.Namespace, load: Any, measured: list[str]) -> dict[str, Any]:
    if args.warmup != "0":
        for mode in measured:
            load(mode, 8, args.warmup)
    results: dict[str, Any] = {mode: {} for mode in measured}
    for connections in args.connections:
        for _ in range(args.repeat):
            for mode in measured:  # interleaved, so drift hits every endpoint alike
                results[mode].setdefault(str(connections), []).append(
                    load(mode, connections, args.duration)
                )
    return {
        mode: {count: _chosen(args, done) for count, done in runs.items()}
        for mode, runs in results.items()
    }


def _loader(args, script, urls, auth, cpu_roots):  # type: ignore[no-untyped-def]
    def load(mode: str, connections: int, duration: str) -> dict[str, Any]:
        url, signed = urls[mode]
        print(f"{mode} at {connections} connections for {duration}", file=sys.stderr)
        args.cpu_pids = cpu_roots.get(mode, {})
        return run_wrk(args, script, url, auth if signed else {}, connections, duration)

    return load


def _chosen(args: argparse.Namespace, done: list[dict[str, Any]]) -> dict[str, Any]:
    done.sort(key=lambda run: run["ok_requests_per_s"])
    chosen = done[-1] if args.pick == "best" else done[len(done) // 2]
    if args.repeat > 1:
        chosen["repeats_ok_requests_per_s"] = [r["ok_requests_per_s"] for r in done]
        chosen["repeats_p95_ms"] = [r["p95_ms"] for r in done]
    return chosen


def ratios(results: dict[str, Any]) -> dict[str, Any]:
    """Throughput and CPU per request of every endpoint against the bare view's, per count."""
    bare = results.get("bare", {})
    found: dict[str, Any] = {}
    for mode, runs in results.items():
        if mode == "bare" or "available" in runs:
            continue
        for count, run in runs.items():
            ceiling = bare.get(count)
            if ceiling and ceiling["ok_requests_per_s"]:
                found[f"{mode}_vs_bare_at_{count}"] = {
                    "throughput": round(run["ok_requests_per_s"] / ceiling["ok_requests_per_s"], 3),
                    "cpu": _cpu_ratio(run, ceiling),
                }
    return found


def _cpu_ratio(run: dict[str, Any], ceiling: dict[str, Any]) -> float | None:
    mine = sum((run.get("cpu_ms_per_request") or {}).values())
    floor = sum((ceiling.get("cpu_ms_per_request") or {}).values())
    return round(mine / floor, 3) if floor else None


def judge(results: dict[str, Any], found: dict[str, Any]) -> dict[str, Any]:
    """Pass/fail per hot endpoint: ratio to the bare view, p95 limits, every answer 200."""
    targets: dict[str, Any] = {}
    for mode in HOT_MODES:
        runs = results.get(mode)
        if runs is None:
            continue
        if "available" in runs:
            targets[mode] = {"pass": False, "reason": "preflight did not answer 200"}
            continue
        checks = {
            f"p95_ms_at_{count}": _p95_check(runs, count, limit)
            for count, limit in P95_LIMITS_MS.items()
        }
        checks[f"ratio_to_bare_at_{RATIO_AT}"] = _ratio_check(found, mode)
        failures = sum(r["non_200"] + r["socket_errors"] for r in runs.values())
        checks["all_200"] = {"value": failures, "pass": failures == 0}
        targets[mode] = {**checks, "pass": all(c["pass"] for c in checks.values())}
    return targets


def _p95_check(runs: dict[str, Any], count: str, limit: float) -> dict[str, Any]:
    p95 = runs[count]["p95_ms"] if count in runs else None
    return {"value": p95, "limit": f"<= {limit}", "pass": p95 is not None and p95 <= limit}


def _ratio_check(found: dict[str, Any], mode: str) -> dict[str, Any]:
    ratio = (found.get(f"{mode}_vs_bare_at_{RATIO_AT}") or {}).get("throughput")
    return {
        "value": ratio,
        "limit": f">= {RATIO_LIMIT}",
        "pass": ratio is not None and ratio >= RATIO_LIMIT,
    }


def bench_server(args: argparse.Namespace, name: str) -> dict[str, Any]:
    """Start the service and the bare view under `name`, measure, stop both."""
    log = Path(args.log_dir) / f"wsbench-{name}.log"
    service = servers.start(name, "service", SERVICE_PORT, log)
    try:
        bare = servers.start(name, "bare", BARE_PORT, log)
        try:
            return bench_urls(
                args, service.base_url, bare.base_url, service.process.pid, bare.process.pid
            )
        finally:
            servers.stop(bare)
    finally:
        servers.stop(service)


def bench_urls(
    args: argparse.Namespace, base: str, bare: str, service_pid: int | None, bare_pid: int | None
) -> dict[str, Any]:
    extra = dict(args.cpu_pids)
    service_roots = {**extra, **({"server": service_pid} if service_pid else {})}
    bare_roots = {**extra, **({"server": bare_pid} if bare_pid else {})}
    cpu_roots = {mode: bare_roots if mode == "bare" else service_roots for mode in args.modes}
    load_before = os.getloadavg()
    results = measure(args, endpoints(args, base, bare), cpu_roots)
    found = ratios(results)
    targets = judge(results, found)
    return {
        "loadavg": [round(x, 2) for x in (*load_before, *os.getloadavg())],
        "results": results,
        "ratios": found,
        "targets": targets,
        "pass": all(t["pass"] for t in targets.values()),
    }


def run(args: argparse.Namespace) -> int:
    if not Path(args.wrk).exists():
        print(f"wrk not found at {args.wrk} (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    if args.servers:
        by_server = {name: bench_server(args, name) for name in args.servers}
    else:
        by_server = {"running": bench_urls(args, args.base_url, args.bare_url, None, None)}
    version = subprocess.run([args.wrk, "-v"], capture_output=True, text=True, check=False)
    document = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "wrk": {
            "version": (version.stdout or version.stderr).splitlines()[0:1],
            "duration": args.duration,
            "repeat": args.repeat,
            "keep_alive": True,
        },
        "world": args.world,
        "servers": by_server,
        "pass": all(found["pass"] for found in by_server.values()),
    }
    print(json.dumps(document, indent=2))
    return 1 if args.fail_on_miss and not document["pass"] else 0


def main(argv: list[str] | None = None) -> int:
    try:
        return run(parse_args(argv))
    except RuntimeError as exc:  # wrk or a server failed: a setup problem, not a measurement
        print(str(exc), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
