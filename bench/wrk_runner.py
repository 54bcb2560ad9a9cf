"""wrk, driven from Python: one run, its latency percentiles, statuses and CPU per request.

A small Lua script (written to a temporary file by the caller) hooks `response()` to count the
answers that are not 200 and `done()` to print p50/p95/p99 and the counts as one JSON line.
CPU per request is read from /proc for named local processes and their descendants.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
from pathlib import Path
from typing import Any

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
