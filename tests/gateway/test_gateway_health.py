"""`GET /health`: what the existing Gateway's client polls before it retries a failed call."""

from __future__ import annotations

import pytest
from django.test import Client


def test_health__no_credential__same_answer_as_healthz():
    client = Client()

    health, healthz = client.get("/health"), client.get("/healthz")

    assert health.status_code == healthz.status_code == 200
    assert health["Content-Type"] == healthz["Content-Type"] == "application/json"
    assert health.content == healthz.content
    assert health.json()["status"] == "ok"


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_health__not_a_get__405(method):
    assert getattr(Client(), method)("/health").status_code == 405
