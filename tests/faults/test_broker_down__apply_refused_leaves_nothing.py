"""An apply refused because the broker is unreachable leaves no run and no lock behind.

A real gunicorn worker runs with `CELERY_BROKER_URL` on a closed port, so sending the apply's
task really fails; the database and Redis are the test's own.
"""

from __future__ import annotations

import http.client
import json
import socket
import sys
from typing import Any

import pytest

from activation.apply.models import ApplyRun
from activation.apply.selectors import apply_in_flight
from tests.factories import UserFactory, make_world, token_for
from tests.faults.conftest import ProcessLauncher, wait_until
from tests.processes import START_TIMEOUT_SECONDS
from worlds.models import WorldAuditLog
from worlds.roles import Role
from worlds.services.members import grant_role

pytestmark = [pytest.mark.faults, pytest.mark.real_worker]


def _closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _request(port: int, method: str, path: str, secret: str, body: Any) -> tuple[int, dict, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(
            method,
            path,
            body=json.dumps(body),
            headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
        )
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), json.loads(response.read() or b"{}")
    finally:
        connection.close()


def _answers(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def _server_without_broker(processes: ProcessLauncher) -> int:
    port = _closed_port()
    broker = f"redis://127.0.0.1:{_closed_port()}/0"
    server = processes.start(
        [sys.executable, "-m", "gunicorn", "worldservice.wsgi:application"]
        + ["--workers", "1", "--bind", f"127.0.0.1:{port}"],
        env={"CELERY_BROKER_URL": broker},
        name="gunicorn",
    )
    wait_until(
        lambda: _answers(port),
        timeout=START_TIMEOUT_SECONDS,
        message="gunicorn to answer",
        watch=[server],
    )
    return port


def test_apply__broker_unreachable__503_no_run_no_lock_no_audit(processes):
    # Given a world with an operator, served by a process whose broker is a closed port
    owner = UserFactory(username="olivia", permissions=["worlds.add_world"])
    world = make_world(owner=owner, world_id="alpha")
    operator = UserFactory(username="oscar")
    grant_role(world=world, user=operator, role=Role.OPERATOR)
    secret = token_for(operator)
    port = _server_without_broker(processes)
    audit_before = WorldAuditLog.objects.count()

    # When an apply is requested
    status, headers, body = _request(
        port,
        "POST",
        "/worlds/alpha/apply",
        secret,
        {"run_id": "r1", "plan": {"activate": ["s1"], "deactivate": []}},
    )

    # Then it is refused with a clear 503, and nothing was recorded or locked
    _assert_refused_leaving_nothing(status, headers, body, audit_before)

    # And the world takes an override at once (no 409 apply_in_progress for a dead run)
    status, _, body = _request(
        port,
        "PUT",
        "/worlds/alpha/activation",
        secret,
        {"strategy_id": "s1", "side": "long", "active": True},
    )
    assert status == 200, body

    # And a second try of the same run_id is refused the same way, not replayed or conflicting
    status, _, body = _request(
        port,
        "POST",
        "/worlds/alpha/apply",
        secret,
        {"run_id": "r1", "plan": {"activate": ["s1"], "deactivate": []}},
    )
    assert status == 503 and body["code"] == "dependency_unavailable"
    assert not ApplyRun.objects.exists()


def _assert_refused_leaving_nothing(status, headers, body, audit_before):
    assert status == 503, body
    assert body["code"] == "dependency_unavailable"
    assert "broker" in body["detail"]
    assert int(headers["Retry-After"]) > 0
    assert not ApplyRun.objects.exists()
    assert WorldAuditLog.objects.count() == audit_before
    assert apply_in_flight("alpha") is False
