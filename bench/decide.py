"""Load-test the hot reads of a running WorldService with wrk, and print one JSON document.

It starts nothing itself: point it at a service that is already up (gunicorn, PostgreSQL,
Redis), prepared e.g. by bench/setup_bench_world.py. For each connection count (1, 8, 32) it
runs wrk against every endpoint in turn, interleaved so drift hits them alike:

- `healthz`    GET /healthz                                   (no auth: the baseline)
- `decide`     GET /worlds/{world}/decide                     (Authorization: Bearer ...)
- `activation` GET /worlds/{world}/activation?strategy_id=&side=   (with --strategy)

A Lua script (written to a temporary file) makes wrk report p50/p95/p99 and count the answers
that are not 2xx (`non_2xx`) and not 200 (`non_200`, with `statuses` by code), per thread,
summed in `done()`. Any answer other than 200, and any socket error, fails the endpoint: it is
counted, never taken as speed (`ok_requests_per_s` counts 200s only, and the ratios use it).
An endpoint whose preflight request does not answer 200 is reported as unavailable and not
loaded (e.g. the activation route before it exists, or no entry for the strategy: 404).

    uv run python bench/decide.py --base-url http://127.0.0.1:8077 --token ws_... \\
        --world bench [--strategy bench-s0000 --side long] [--duration 10s]

`--repeat N` runs each (endpoint, connections) N times, interleaved, and reports the median run
(`--pick best`: the fastest), listing all N. `--cpu-pid gunicorn=<master pid>` (repeatable, local
processes only) adds `cpu_ms_per_request` from /proc for that process and its children: on a
machine shared with other work, CPU per request is steadier than requests per second.

Targets (issues 4 and 5): p95 ≤ 5 ms at 8 connections; throughput at 32 connections ≥ 0.5 ×
that of /healthz in the same run. The exit status is 0 unless wrk fails, or, with
`--fail-on-miss`, a target is missed.
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

P95_LIMIT_MS = 5.0
P95_AT_CONNECTIONS = 8
RATIO_LIMIT = 0.5
RATIO_AT_CONNECTIONS = 32
MARKER = "WRK_JSON "

LUA = r"""
-- Written by bench/decide.py: count non-2xx answers, report latency percentiles as JSON.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  non2xx = 0
  statuses = {}
end

function response(status, headers, body)
  if status ~= 200 then
    if status < 200 or status > 299 then
      non2xx = non2xx + 1
    end
    local key = tostring(status)
    statuses[key] = (statuses[key] or 0) + 1
  end
end

function done(summary, latency, requests)
  local bad = 0
  local seen = {}
  for _, thread in ipairs(threads) do
    bad = bad + (thread:get("non2xx") or 0)
    local counts = thread:get("statuses") or {}
    for status, count in pairs(counts) do
      seen[status] = (seen[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(seen) do
    table.insert(parts, string.format('"%s":%d', status, count))
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"duration_us":%d,"requests":%d,"bytes":%d,"non_2xx":%d,"statuses":{%s},' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"min":%d,"mean":%.1f,"stdev":%.1f,"max":%d,"p50":%d,"p90":%d,"p95":%d,' ..
    '"p99":%d}}\n',
    summary.duration, summary.requests, summary.bytes, bad, table.concat(parts, ","),
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.stdev, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99)))
end
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Drive decide, activation and healthz with wrk; print JSON."
    )
    parser.add_argument("--base-url", default="http://127.0.0.1:8077")
    parser.add_argument(
        "--token",
        default=os.environ.get("WORLDSERVICE_TOKEN", ""),
        help="API bearer token (default: $WORLDSERVICE_TOKEN).",
    )
    parser.add_argument("--world", default="bench")
    parser.add_argument("--strategy", default=None, help="Strategy for the activation mode.")
    parser.add_argument("--side", choices=("long", "short"), default="long")
    parser.add_argument(
        "--modes",
        default="healthz,decide,activation",
        help="Comma-separated endpoints (activation needs --strategy).",
    )
    parser.add_argument("--connections", default="1,8,32", help="Comma-separated counts.")
    parser.add_argument("--duration", default="10s", help="wrk -d per run (bounded).")
    parser.add_argument("--threads", type=int, default=2, help="wrk -t (at most 2).")
    parser.add_argument("--timeout", default="2s", help="wrk --timeout.")
    parser.add_argument(
        "--warmup", default="2s", help="Unrecorded wrk run per endpoint first ('0' skips)."
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="Runs per endpoint and connection count (interleaved); see --pick.",
    )
    parser.add_argument(
        "--pick",
        choices=("median", "best"),
        default="median",
        help="Which of the repeated runs to report: the median or the best (by ok req/s).",
    )
    parser.add_argument(
        "--cpu-pid",
        action="append",
        default=[],
        metavar="NAME=PID",
        help=(
            "Also report the CPU time per request of this local process and its children "
            "(e.g. gunicorn=<master pid>, redis=<pid>); may be repeated. Robust to a busy machine."
        ),
    )
    parser.add_argument("--wrk", default=shutil.which("wrk") or "/usr/bin/wrk")
    parser.add_argument("--fail-on-miss", action="store_true", help="Exit 1 if a target misses.")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if not 1 <= args.threads <= 2:
        parser.error("--threads must be 1 or 2")
    if not re.fullmatch(r"\d+[smh]?", args.duration):
        parser.error("--duration takes wrk's form, e.g. 10s")
    if args.warmup != "0" and not re.fullmatch(r"\d+[smh]?", args.warmup):
        parser.error("--warmup takes wrk's form, e.g. 2s, or 0")
    if urllib.parse.urlsplit(args.base_url).scheme not in ("http", "https"):
        parser.error("--base-url must be an http:// or https:// URL")
    args.cpu_pids = {}
    for item in args.cpu_pid:
        name, _, pid = item.partition("=")
        if not name or not pid.isdigit():
            parser.error(f"--cpu-pid takes NAME=PID, got {item!r}")
        args.cpu_pids[name] = int(pid)
    args.connections = [int(c) for c in args.connections.split(",") if c.strip()]
    args.modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = set(args.modes) - {"healthz", "decide", "activation"}
    if unknown:
        parser.error(f"unknown modes: {sorted(unknown)}")
    if "activation" in args.modes and not args.strategy:
        args.modes.remove("activation")
    if any(m != "healthz" for m in args.modes) and not args.token:
        parser.error("--token (or $WORLDSERVICE_TOKEN) is needed for decide and activation")
    return args


def endpoints(args: argparse.Namespace) -> dict[str, tuple[str, bool]]:
    """Mode → (URL, authenticated)."""
    base = args.base_url.rstrip("/")
    world = urllib.parse.quote(args.world, safe="")
    urls = {
        "healthz": (f"{base}/healthz", False),
        "decide": (f"{base}/worlds/{world}/decide", True),
    }
    if args.strategy:
        query = urllib.parse.urlencode({"strategy_id": args.strategy, "side": args.side})
        urls["activation"] = (f"{base}/worlds/{world}/activation?{query}", True)
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


def _process_table() -> dict[int, tuple[int, int]]:
    """pid → (parent pid, utime + stime in clock ticks), from /proc."""
    table: dict[int, tuple[int, int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()  # after "pid (comm) "
        table[int(entry.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    return table


def cpu_ticks(roots: dict[str, int]) -> dict[str, dict[int, int]]:
    """For each named root pid: the CPU ticks of it and of every descendant, per pid."""
    if not roots:
        return {}
    table = _process_table()
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in table.items():
        children.setdefault(parent, []).append(pid)
    found: dict[str, dict[int, int]] = {}
    for name, root in roots.items():
        ticks: dict[int, int] = {}
        stack = [root]
        while stack:
            pid = stack.pop()
            if pid in table:
                ticks[pid] = table[pid][1]
                stack.extend(children.get(pid, []))
        found[name] = ticks
    return found


def cpu_ms_per_request(
    before: dict[str, dict[int, int]], after: dict[str, dict[int, int]], requests: int
) -> dict[str, float]:
    hz = os.sysconf("SC_CLK_TCK")
    spent: dict[str, float] = {}
    for name, ticks in after.items():
        delta = sum(t - before.get(name, {}).get(pid, 0) for pid, t in ticks.items())
        spent[name] = round(delta / hz * 1000 / max(1, requests), 3)
    return spent


def run_wrk(
    args: argparse.Namespace,
    script: Path,
    url: str,
    headers: dict[str, str],
    connections: int,
    duration: str,
) -> dict[str, Any]:
    threads = min(args.threads, connections)
    command = [
        args.wrk,
        "-t",
        str(threads),
        "-c",
        str(connections),
        "-d",
        duration,
        "--timeout",
        args.timeout,
        "-s",
        str(script),
    ]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    command.append(url)
    cpu_before = cpu_ticks(args.cpu_pids)
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    cpu_after = cpu_ticks(args.cpu_pids)
    line = next(
        (ln for ln in completed.stdout.splitlines() if ln.startswith(MARKER)),
        None,
    )
    if completed.returncode != 0 or line is None:
        raise RuntimeError(
            f"wrk failed (exit {completed.returncode}): {completed.stderr.strip()}"
            f" {completed.stdout.strip()}"
        )
    raw: dict[str, Any] = json.loads(line[len(MARKER) :])
    seconds = raw["duration_us"] / 1e6
    errors = raw["errors"]
    socket_errors = errors["connect"] + errors["read"] + errors["write"] + errors["timeout"]
    latency = raw["latency_us"]
    non_200 = sum(raw["statuses"].values())  # every answer that was not 200, by status
    ok = max(0, raw["requests"] - non_200)
    extra: dict[str, Any] = {}
    if args.cpu_pids:
        extra["cpu_ms_per_request"] = cpu_ms_per_request(cpu_before, cpu_after, raw["requests"])
    return {
        "requests_per_s": round(raw["requests"] / seconds, 1),
        "ok_requests_per_s": round(ok / seconds, 1),
        "p50_ms": round(latency["p50"] / 1000, 3),
        "p95_ms": round(latency["p95"] / 1000, 3),
        "p99_ms": round(latency["p99"] / 1000, 3),
        "max_ms": round(latency["max"] / 1000, 3),
        "non_2xx": raw["non_2xx"],
        "non_200": non_200,
        "statuses": raw["statuses"],
        "socket_errors": socket_errors,
        "requests": raw["requests"],
        "seconds": round(seconds, 2),
        "threads": threads,
        **extra,
    }


def judge(
    results: dict[str, dict[str, Any]], measured: list[str]
) -> tuple[dict[str, float | None], dict[str, Any]]:
    """Ratios to healthz at 32 connections, and pass/fail per hot endpoint."""
    ratios: dict[str, float | None] = {}
    targets: dict[str, Any] = {}
    base = results.get("healthz", {}).get(str(RATIO_AT_CONNECTIONS))
    for mode in ("decide", "activation"):
        if mode not in results:
            continue
        runs = results[mode]
        if mode not in measured:
            targets[mode] = {"pass": False, "reason": "not measured (preflight did not answer 200)"}
            continue
        at_ratio = runs.get(str(RATIO_AT_CONNECTIONS))
        ratio = None
        if at_ratio and base and base["ok_requests_per_s"]:
            ratio = round(at_ratio["ok_requests_per_s"] / base["ok_requests_per_s"], 3)
        ratios[f"{mode}_vs_healthz_at_{RATIO_AT_CONNECTIONS}"] = ratio
        at_p95 = runs.get(str(P95_AT_CONNECTIONS))
        p95 = at_p95["p95_ms"] if at_p95 else None
        failures = sum(r["non_200"] + r["socket_errors"] for r in runs.values())
        checks = {
            f"p95_ms_at_{P95_AT_CONNECTIONS}": {
                "value": p95,
                "limit": f"<= {P95_LIMIT_MS}",
                "pass": p95 is not None and p95 <= P95_LIMIT_MS,
            },
            f"ratio_at_{RATIO_AT_CONNECTIONS}": {
                "value": ratio,
                "limit": f">= {RATIO_LIMIT}",
                "pass": ratio is not None and ratio >= RATIO_LIMIT,
            },
            "all_200": {"value": failures, "limit": "== 0 failed requests", "pass": failures == 0},
        }
        targets[mode] = {**checks, "pass": all(c["pass"] for c in checks.values())}
    if "healthz" in results:
        if "healthz" not in measured:
            targets["healthz"] = {"pass": False, "reason": "preflight did not answer 200"}
            return ratios, targets
        failures = sum(r["non_200"] + r["socket_errors"] for r in results["healthz"].values())
        targets["healthz"] = {"all_200": failures == 0, "pass": failures == 0}
    return ratios, targets


def main(argv: list[str] | None = None) -> int:
    try:
        return run(parse_args(argv))
    except RuntimeError as exc:  # wrk itself failed: a setup problem, not a measurement
        print(str(exc), file=sys.stderr)
        return 2


def run(args: argparse.Namespace) -> int:
    if not Path(args.wrk).exists():
        print(f"wrk not found at {args.wrk} (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    auth = {"Authorization": f"Bearer {args.token}"}
    targets_by_mode = endpoints(args)
    results: dict[str, dict[str, Any]] = {}
    preflights: dict[str, Any] = {}
    measured: list[str] = []
    for mode, (url, authenticated) in targets_by_mode.items():
        check = preflight(url, auth if authenticated else {})
        preflights[mode] = check
        results[mode] = {}
        if check["status"] == 200:
            measured.append(mode)
        else:
            print(f"{mode}: preflight answered {check}; not measured", file=sys.stderr)

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="wsbench-") as tmp:
        script = Path(tmp) / "report.lua"
        script.write_text(LUA)
        if args.warmup != "0":
            for mode in measured:
                url, authenticated = targets_by_mode[mode]
                run_wrk(args, script, url, auth if authenticated else {}, 8, args.warmup)
        for connections in args.connections:
            runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in measured}
            for attempt in range(1, args.repeat + 1):
                for mode in measured:  # interleaved, so drift hits every endpoint alike
                    url, authenticated = targets_by_mode[mode]
                    print(
                        f"{mode} at {connections} connections for {args.duration}"
                        f" (run {attempt}/{args.repeat})",
                        file=sys.stderr,
                    )
                    headers = auth if authenticated else {}
                    runs[mode].append(
                        run_wrk(args, script, url, headers, connections, args.duration)
                    )
            for mode, done in runs.items():
                done.sort(key=lambda run: run["ok_requests_per_s"])
                chosen = done[-1] if args.pick == "best" else done[len(done) // 2]
                if args.repeat > 1 and args.cpu_pids:
                    chosen["repeats_cpu_ms_per_request"] = [r["cpu_ms_per_request"] for r in done]
                if args.repeat > 1:
                    chosen["repeats_ok_requests_per_s"] = [r["ok_requests_per_s"] for r in done]
                    chosen["repeats_p95_ms"] = [r["p95_ms"] for r in done]
                results[mode][str(connections)] = chosen

    ratios, targets = judge(results, measured)
    verdict = all(t["pass"] for t in targets.values())
    version = subprocess.run([args.wrk, "-v"], capture_output=True, text=True, check=False)
    document = {
        "base_url": args.base_url,
        "world": args.world,
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "loadavg_before": [round(x, 2) for x in load_before],
            "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        },
        "wrk": {
            "version": (version.stdout or version.stderr).splitlines()[0:1],
            "threads": args.threads,
            "duration": args.duration,
            "timeout": args.timeout,
            "warmup": args.warmup,
            "repeat": args.repeat,
            "pick": args.pick,
            "connections": args.connections,
        },
        "preflight": {
            mode: {k: v for k, v in check.items() if k != "body"}
            | ({} if check.get("status") == 200 else {"body": check.get("body")})
            for mode, check in preflights.items()
        },
        "results": {
            mode: runs if mode in measured else {"available": False, **preflights[mode]}
            for mode, runs in results.items()
        },
        "ratios": ratios,
        "targets": targets,
        "pass": verdict,
    }
    print(json.dumps(document, indent=2))
    return 1 if args.fail_on_miss and not verdict else 0


if __name__ == "__main__":
    sys.exit(main())
