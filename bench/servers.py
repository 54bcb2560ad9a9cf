"""The HTTP servers bench/decide.py compares, each started with 2 workers on a local port.

Every candidate runs the service (`worldservice.wsgi` / `worldservice.asgi`) and the bare view
(`bench.bare_app`) the same way, so the bare view is the ceiling of that very server.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKERS = "2"

# name -> (command before the app, whether it takes the ASGI callable)
SERVERS: dict[str, tuple[list[str], bool]] = {
    "gunicorn-sync": (["gunicorn", "-w", WORKERS, "--no-control-socket"], False),
    "gunicorn-gthread": (
        [
            "gunicorn",
            "-w",
            WORKERS,
            "-k",
            "gthread",
            "--threads",
            "4",
            "--keep-alive",
            "5",
            "--no-control-socket",
        ],
        False,
    ),
    # The shipped configuration (bin/web, the Procfile's web process).
    "granian-wsgi": (["bin/web"], False),
    "granian-asgi": (["granian", "--interface", "asgi", "--workers", WORKERS, "--no-log"], True),
}
APPS = {
    "service": ("worldservice.wsgi:application", "worldservice.asgi:application"),
    "bare": ("bench.bare_app:application", "bench.bare_app:asgi_application"),
}


@dataclass
class Running:
    name: str
    process: subprocess.Popen[bytes]
    base_url: str


def command(server: str, app: str, port: int) -> tuple[list[str], dict[str, str]]:
    """The command line (and environment) serving `app` ("service", "bare") on `port`."""
    prefix, asgi = SERVERS[server]
    target = APPS[app][1 if asgi else 0]
    if prefix[0] == "bin/web":
        env = {"PORT": str(port), "WEB_HOST": "127.0.0.1", "WEB_WORKERS": WORKERS}
        return [str(ROOT / "bin" / "web")], {**env, "WEB_APP": target}
    binary = str(ROOT / ".venv" / "bin" / prefix[0])
    if prefix[0] == "gunicorn":
        return [binary, *prefix[1:], "-b", f"127.0.0.1:{port}", target], {}
    return [binary, *prefix[1:], "--host", "127.0.0.1", "--port", str(port), target], {}


def start(server: str, app: str, port: int, log: Path) -> Running:
    """Start it in its own process group, and wait until it answers."""
    argv, extra = command(server, app, port)
    venv = str(ROOT / ".venv" / "bin")
    path = f"{venv}{os.pathsep}{os.environ.get('PATH', '')}"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PATH": path, **extra}
    with log.open("ab") as out:
        process = subprocess.Popen(  # noqa: S603 - our own command line
            argv,
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    running = Running(server, process, f"http://127.0.0.1:{port}")
    _wait_until_up(running, "/bare" if app == "bare" else "/healthz")
    return running


def _wait_until_up(running: Running, path: str, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if running.process.poll() is not None:
            raise RuntimeError(f"{running.name} exited with {running.process.returncode}")
        try:
            with urllib.request.urlopen(running.base_url + path, timeout=2):  # noqa: S310
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    stop(running)
    raise RuntimeError(f"{running.name} did not answer {path} within {limit:.0f} s")


def stop(running: Running) -> None:
    """Stop the server and its workers (its own process group only)."""
    if running.process.poll() is None:
        os.killpg(running.process.pid, signal.SIGTERM)
        try:
            running.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(running.process.pid, signal.SIGKILL)
            running.process.wait()
