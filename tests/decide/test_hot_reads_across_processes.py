"""Hot reads served by a real server's worker see changes made by another process at once.

The worker holds tokens, roles, decide's envelope and activation entries in memory (tracked
copies); this test process makes the changes, as the admin or another worker would. Every test
runs against gunicorn (sync) and against the production server (`bin/web`, granian), and the
last ones restart the worker in between (docs/performance.md, "Server (issue 14)").
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from http.client import HTTPMessage
from pathlib import Path

import pytest

from activation.services.overrides import override_activation
from policies.services.inputs import add_bindings
from tests.factories import UserFactory, make_world, token_for
from tests.processes import START_TIMEOUT_SECONDS, free_port, subprocess_env
from worlds.models import ApiToken
from worlds.roles import Role
from worlds.services.members import grant_role, remove_member
from worlds.services.tokens import revoke_token

pytestmark = [pytest.mark.django_db(transaction=True)]


ROOT = Path(__file__).resolve().parents[2]
SERVERS = {
    "gunicorn": [
        sys.executable, "-m", "gunicorn", "worldservice.wsgi:application",
        "--workers", "1", "--bind", "127.0.0.1:{port}",
    ],
    "production": [str(ROOT / "bin" / "web")],
}  # fmt: skip
_PROCESSES: dict[int, subprocess.Popen[bytes]] = {}


@pytest.fixture(scope="module", params=sorted(SERVERS))
def server(request: pytest.FixtureRequest, django_db_setup: None) -> Iterator[int]:
    """One worker of the server on the test database, shared by the module's tests."""
    port = free_port()
    venv = str(Path(sys.executable).parent)
    overrides = {"PORT": str(port), "WEB_HOST": "127.0.0.1", "WEB_WORKERS": "1"}
    overrides["PATH"] = f"{venv}{os.pathsep}{os.environ.get('PATH', '')}"
    process = subprocess.Popen(  # noqa: S603 - our own command line
        [part.format(port=port) for part in SERVERS[request.param]],
        env=subprocess_env(overrides),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    _PROCESSES[port] = process
    try:
        _wait_until_up(port, process)
        yield port
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)


def _wait_until_up(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while True:
        try:
            _get(port, "/healthz", "")
            return
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("the server did not start") from None
            time.sleep(0.1)


def _restart_worker(port: int) -> None:
    """Kill the server's worker process; the server starts a new one."""
    master = _PROCESSES[port].pid
    workers = [
        int(entry.name)
        for entry in Path("/proc").iterdir()
        if entry.name.isdigit() and _parent_of(entry) == master
    ]
    assert workers, "the server has no worker process"
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.5)
    _wait_until_up(port, _PROCESSES[port])


def _parent_of(entry: Path) -> int | None:
    try:
        raw = (entry / "stat").read_text()
    except OSError:
        return None
    return int(raw[raw.rindex(")") + 2 :].split()[1])


def _get(port: int, path: str, secret: str) -> tuple[int, HTTPMessage, bytes]:
    """Status, headers (looked up by name in any case: granian sends them in lower case), body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path, headers={"Authorization": f"Bearer {secret}"})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def _warm(port: int, path: str, secret: str) -> tuple[int, HTTPMessage, bytes]:
    _get(port, path, secret)
    return _get(port, path, secret)  # the second read is served from the worker's memory


def test_token_revoked__the_workers_next_read_is_refused(server):
    owner = UserFactory(username="olivia", permissions=["worlds.add_world"])
    make_world(owner=owner, world_id="hot")
    secret = token_for(owner)
    assert _warm(server, "/worlds/hot/decide", secret)[0] == 200

    revoke_token(token=ApiToken.objects.get(prefix=secret[:10]), actor="t")

    assert _get(server, "/worlds/hot/decide", secret)[0] == 401


def test_role_removed__the_workers_next_read_is_404(server):
    owner = UserFactory(username="olivia", permissions=["worlds.add_world"])
    world = make_world(owner=owner, world_id="hot")
    reader = UserFactory(username="gateway")
    grant_role(world=world, user=reader, role=Role.READER)
    secret = token_for(reader)
    assert _warm(server, "/worlds/hot/decide", secret)[0] == 200

    remove_member(actor=owner, world_id="hot", username="gateway")

    assert _get(server, "/worlds/hot/decide", secret)[0] == 404


def test_decide_input_changed__the_workers_next_read_has_the_new_etag(server):
    owner = UserFactory(username="olivia", permissions=["worlds.add_world"])
    make_world(owner=owner, world_id="hot")
    secret = token_for(owner)
    status, before, _ = _warm(server, "/worlds/hot/decide", secret)
    assert status == 200

    add_bindings(actor=owner, world_id="hot", strategies=["s-new"])

    status, after, body = _get(server, "/worlds/hot/decide", secret)
    assert status == 200
    assert after["ETag"] != before["ETag"]
    assert json.loads(body)["etag"] == after["ETag"].strip('"')


def test_activation_changed__the_workers_next_read_sees_it(server):
    owner = UserFactory(username="olivia", permissions=["worlds.add_world"])
    make_world(owner=owner, world_id="hot")
    secret = token_for(owner)
    path = "/worlds/hot/activation?strategy_id=s1&side=long"
    override_activation(actor=owner, world_id="hot", strategy_id="s1", side="long", active=True)
    status, _, body = _warm(server, path, secret)
    assert status == 200 and json.loads(body)["active"] is True

    override_activation(actor=owner, world_id="hot", strategy_id="s1", side="long", active=False)

    status, _, body = _get(server, path, secret)
    assert status == 200 and json.loads(body)["active"] is False


def test_worker_restarted__the_new_worker_sees_revocation_and_changes(server):
    owner = UserFactory(username="olivia", permissions=["worlds.add_world"])
    make_world(owner=owner, world_id="hot")
    secret = token_for(owner)
    path = "/worlds/hot/activation?strategy_id=s1&side=long"
    override_activation(actor=owner, world_id="hot", strategy_id="s1", side="long", active=True)
    assert _warm(server, path, secret)[0] == 200
    status, before, _ = _warm(server, "/worlds/hot/decide", secret)
    assert status == 200

    _restart_worker(server)
    assert _warm(server, "/worlds/hot/decide", secret)[1]["ETag"] == before["ETag"]
    override_activation(actor=owner, world_id="hot", strategy_id="s1", side="long", active=False)
    add_bindings(actor=owner, world_id="hot", strategies=["s-new"])

    status, _, body = _get(server, path, secret)
    assert status == 200 and json.loads(body)["active"] is False
    assert _get(server, "/worlds/hot/decide", secret)[1]["ETag"] != before["ETag"]
    revoke_token(token=ApiToken.objects.get(prefix=secret[:10]), actor="t")
    assert _get(server, "/worlds/hot/decide", secret)[0] == 401
