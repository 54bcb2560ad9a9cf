"""CPU per request of the hot reads in one process, against Django's floor, and where it goes.

Calls Django's WSGI handler directly (no server, no network) for each endpoint. Beside them it
calls the *floor*: a second WSGI handler in the same process, with no middleware, whose one URL
answers `bench/bare_app.py`'s JSON view. The batches of every endpoint and of the floor are
interleaved, so a change in the machine's speed (this machine is shared) hits them alike; each
line prints the best CPU time per request over `--batches` batches and its ratio to the floor.
With `--profile MODE` it also prints pyinstrument's call tree for that endpoint.

Uses the same database, Redis and bench world as bench/decide.py (bench/setup_bench_world.py).

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

FLOOR_URLCONF = __name__  # this module: `urlpatterns` below, filled by `floor_app`
urlpatterns: list[Any] = []


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


def floor_app() -> Any:
    """Django's WSGI handler with no middleware, routing `/bare` to bare_app's JSON view."""
    from django.core.handlers.exception import convert_exception_to_response
    from django.core.handlers.wsgi import WSGIHandler
    from django.urls import path

    from bench.bare_app import bare

    urlpatterns[:] = [path("bare", bare)]

    class FloorHandler(WSGIHandler):
        def load_middleware(self, is_async: bool = False) -> None:
            self._view_middleware: list[Any] = []
            self._template_response_middleware: list[Any] = []
            self._exception_middleware: list[Any] = []
            self._middleware_chain = convert_exception_to_response(self._get_response)

        def get_response(self, request: Any) -> Any:
            request.urlconf = FLOOR_URLCONF
            return super().get_response(request)

    return FloorHandler()


def cpu_us(call: Callable[[], str], size: int) -> float:
    started = time.process_time()
    for _ in range(size):
        call()
    return (time.process_time() - started) / size * 1e6


def interleaved_best(
    calls: dict[str, Callable[[], str]], batches: int, size: int
) -> dict[str, float]:
    """Best CPU µs per request of each call, their batches taken in turn."""
    best = dict.fromkeys(calls, float("inf"))
    for _ in range(batches):
        for mode, call in calls.items():
            best[mode] = min(best[mode], cpu_us(call, size))
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--token", required=True)
    parser.add_argument("--world", default="bench")
    parser.add_argument("--strategy", default="bench-s0000")
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--size", type=int, default=200)
    parser.add_argument("--profile", default="")
    args = parser.parse_args()
    from django.core.wsgi import get_wsgi_application

    app = get_wsgi_application()
    world = f"/worlds/{args.world}"
    entry_query = f"strategy_id={args.strategy}&side=long"
    calls = {
        "floor": caller(floor_app(), "/bare", "", None),
        "healthz": caller(app, "/healthz", "", None),
        "decide": caller(app, f"{world}/decide", "", args.token),
        "activation": caller(app, f"{world}/activation", entry_query, args.token),
        "activation_set": caller(app, f"{world}/activation", "", args.token),
    }
    statuses = {mode: call() for mode, call in calls.items()}
    best = interleaved_best(calls, args.batches, args.size)
    for mode, micros in best.items():
        ratio = micros / best["floor"]
        print(f"{mode}: {statuses[mode]}, {micros:.1f} µs CPU/request, {ratio:.2f} × the floor")
    if args.profile:
        print_profile(calls[args.profile], args.size * args.batches)


def print_profile(call: Callable[[], str], requests: int) -> None:
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.0001)
    with profiler:
        for _ in range(requests):
            call()
    print(profiler.output_text(unicode=True, color=False, show_all=False))


if __name__ == "__main__":
    main()
