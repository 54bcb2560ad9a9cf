"""CPU per request of the hot reads in one process, and where it goes (pyinstrument).

Calls Django's WSGI handler directly (no server, no network) for each endpoint and prints the
best CPU time per request over `--batches` batches; with `--profile MODE` it also prints
pyinstrument's call tree for that endpoint. Uses the same database, Redis and bench world as
bench/decide.py (bench/setup_bench_world.py).

    uv run python bench/profile_hot.py --token ws_... --strategy bench-s0000 [--profile decide]
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "worldservice.settings")


def environ(path: str, query: str, token: str | None) -> dict[str, Any]:
    env = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "HTTP_HOST": "127.0.0.1",
    }
    if token:
        env["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return env


def caller(app: Any, path: str, query: str, token: str | None) -> Callable[[], str]:
    def call() -> str:
        status: list[str] = []
        body = app(environ(path, query, token), lambda s, h, *a: status.append(s))
        for _ in body:
            pass
        body.close()
        return status[0]

    return call


def best_cpu_us(call: Callable[[], str], batches: int, size: int) -> float:
    best = float("inf")
    for _ in range(batches):
        started = time.process_time()
        for _ in range(size):
            call()
        best = min(best, (time.process_time() - started) / size * 1e6)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--token", required=True)
    parser.add_argument("--world", default="bench")
    parser.add_argument("--strategy", default="bench-s0000")
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--size", type=int, default=200)
    parser.add_argument("--profile", default="")
    args = parser.parse_args()
    from django.core.wsgi import get_wsgi_application

    app = get_wsgi_application()
    world = f"/worlds/{args.world}"
    calls = {
        "healthz": caller(app, "/healthz", "", None),
        "decide": caller(app, f"{world}/decide", "", args.token),
        "activation": caller(
            app, f"{world}/activation", f"strategy_id={args.strategy}&side=long", args.token
        ),
        "activation_set": caller(app, f"{world}/activation", "", args.token),
    }
    for mode, call in calls.items():
        status = call()
        print(f"{mode}: {status}, {best_cpu_us(call, args.batches, args.size):.1f} µs CPU/request")
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0001)
        with profiler:
            for _ in range(args.size * args.batches):
                calls[args.profile]()
        print(profiler.output_text(unicode=True, color=False, show_all=False))


if __name__ == "__main__":
    main()
