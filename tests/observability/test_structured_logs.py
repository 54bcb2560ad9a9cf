"""Structured logs: JSON lines that carry the correlation id, the user and the world, from the
web request into the Celery task it sent (through a real worker)."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from policies.services.uploads import PolicySource, upload_policy
from tests.factories import UserFactory, make_world, token_for
from tests.processes import start_celery_worker, stop_process
from worldservice.config import ConfigError
from worldservice.logs import log_format, logging_config


def _json_lines(text: str) -> list[dict[str, Any]]:
    lines = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """The root logger writing JSON lines to a buffer, as `WORLDSERVICE_LOG_FORMAT=json` does."""
    import logging.config

    buffer = io.StringIO()
    config = logging_config("json", "INFO")
    config["handlers"]["console"]["stream"] = buffer
    logging.config.dictConfig(config)
    try:
        yield buffer
    finally:
        logging.config.dictConfig(settings.LOGGING)


def test_log_format__json_console_or_refused():
    assert log_format({}, default="console") == "console"
    assert log_format({"WORLDSERVICE_LOG_FORMAT": "JSON"}, default="console") == "json"
    with pytest.raises(ConfigError):
        log_format({"WORLDSERVICE_LOG_FORMAT": "xml"}, default="console")


@pytest.mark.django_db
def test_request_line__json_with_correlation_id_user_and_world(json_log):
    owner = UserFactory(username="olivia", permissions=["worlds.add_world"])
    make_world(owner=owner, world_id="logged")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(owner)}")

    response = client.get("/worlds/logged/events", HTTP_X_CORRELATION_ID="corr-request-1")

    assert response.status_code == 200
    finished = [
        line for line in _json_lines(json_log.getvalue()) if line["event"] == "request_finished"
    ]
    assert len(finished) == 1
    line = finished[0]
    assert line["correlation_id"] == "corr-request-1"
    assert line["user"] == "olivia"
    assert line["world_id"] == "logged"
    assert line["code"] == 200
    assert line["request"] == "GET /worlds/logged/events"


@pytest.mark.django_db
def test_plain_library_logger__rendered_as_json_with_the_requests_correlation_id(json_log):
    from worldservice.context import correlation_scope

    with correlation_scope("corr-plain-2"):
        logging.getLogger("worlds.relay").warning("relay: Redis unavailable (%s)", "boom")

    (line,) = _json_lines(json_log.getvalue())
    assert line == {
        **line,
        "event": "relay: Redis unavailable (boom)",
        "level": "warning",
        "logger": "worlds.relay",
        "correlation_id": "corr-plain-2",
    }
    assert line["timestamp"].endswith("Z")


@pytest.mark.django_db
def test_hot_reads_and_probes__no_request_line(json_log):
    owner = UserFactory(username="olivia", permissions=["worlds.add_world"])
    make_world(owner=owner, world_id="hot")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(owner)}")

    assert client.get("/worlds/hot/decide").status_code == 200
    client.get("/worlds/hot/activation?strategy_id=s1&side=long")
    for probe in ("/healthz", "/readyz", "/metrics"):
        assert client.get(probe).status_code == 200

    events = [line["event"] for line in _json_lines(json_log.getvalue())]
    assert "request_finished" not in events


@pytest.fixture(scope="module")
def json_worker(django_db_setup: None, django_db_blocker: Any, tmp_path_factory) -> Iterator[Path]:
    """A real worker logging JSON lines at INFO to a file; yields the file."""
    log_path = tmp_path_factory.mktemp("worker") / "worker.log"
    with log_path.open("wb") as log_file:
        process = start_celery_worker(
            loglevel="INFO", env={"WORLDSERVICE_LOG_FORMAT": "json"}, stdout=log_file
        )
    try:
        yield log_path
    finally:
        stop_process(process)


def _task_lines_of(log: Any, correlation_id: str) -> list[dict[str, Any]]:
    """The worker's JSON lines carrying `correlation_id`, once its task has started and
    succeeded (or after 30 s, whatever it wrote by then)."""
    deadline = time.monotonic() + 30
    while True:
        lines = [
            line for line in _json_lines(log.read_text())
            if line.get("correlation_id") == correlation_id
        ]  # fmt: skip
        events = {line["event"] for line in lines}
        if {"task_started", "task_succeeded"} <= events or time.monotonic() > deadline:
            return lines
        time.sleep(0.2)


@pytest.mark.real_worker
@pytest.mark.django_db(transaction=True)
def test_task_lines__carry_the_sending_requests_correlation_id(json_worker):
    owner = UserFactory(username="olivia", permissions=["worlds.add_world"])
    make_world(owner=owner, world_id="ev", approvals_required=0)
    upload_policy(actor=owner, world_id="ev", source=PolicySource(preset="sandbox"))
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(owner)}")

    response = client.post(
        "/worlds/ev/evaluate",
        {"metrics": {"s1": {"sharpe": 1.0}}, "run_id": "logged-1"},
        content_type="application/json",
        HTTP_X_CORRELATION_ID="corr-task-3",
    )
    assert response.status_code == 200, response.content

    # The first line of each event (a later line of the same event does not replace it).
    first = {line["event"]: line for line in reversed(_task_lines_of(json_worker, "corr-task-3"))}
    assert {"task_started", "task_succeeded"} <= set(first), json_worker.read_text()
    assert first["task_started"]["task"] == "policies.evaluate_run"
    # The sender's bound context travelled too: the world of the request that sent it.
    assert first["task_started"]["world_id"] == "ev"
    assert first["task_succeeded"]["run_id"] == "logged-1"
