"""Hot reads served by a real gunicorn worker see changes made by another process at once.

The worker holds tokens, roles, decide's envelope and activation entries in memory (tracked
copies); this test process makes the changes, as the admin or another worker would.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from activation.services.overrides import override_activation
from policies.services.inputs import add_bindings
from tests.factories import UserFactory, make_world, token_for
from tests.processes import START_TIMEOUT_SECONDS, free_port, stop_process, subprocess_env
from worlds.models import ApiToken
from worlds.roles import Role
from worlds.services.members import grant_role, remove_member
from worlds.services.tokens import revoke_token

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def server(django_db_setup: None) -> Iterator[int]:
    """One gunicorn worker on the test database, shared by the module's tests."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "worldservice.wsgi:application",
            "--workers",
            "1",
            "--bind",
            f"127.0.0.1:{port}",
        ],
        env=subprocess_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            try:
                _get(port, "/healthz", "")
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.1)
        yield port
    finally:
        stop_process(process)


def _get(port: int, path: str, secret: str) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path, headers={"Authorization": f"Bearer {secret}"})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def _warm(port: int, path: str, secret: str) -> tuple[int, dict[str, str], bytes]:
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
