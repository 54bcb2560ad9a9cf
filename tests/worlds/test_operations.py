"""Health, readiness, metrics and the OpenAPI documents."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from tests.factories import UserFactory


def test_healthz__no_auth__reports_flags():
    body = Client().get("/healthz").json()

    assert body["status"] == "ok"
    assert {"version", "compat_rebalance_v2", "alpha_metrics_required"} <= set(body)


@pytest.mark.django_db
def test_readyz__all_dependencies_up__200():
    response = Client().get("/readyz")

    assert response.status_code == 200, response.json()
    assert set(response.json()["checks"]) == {"database", "redis", "broker"}


@pytest.mark.django_db
def test_readyz__redis_down__503_naming_redis():
    with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
        response = Client().get("/readyz")

    assert response.status_code == 503
    assert response.json()["down"] == ["redis"]
    assert "redis" in response.json()["detail"]


@pytest.mark.django_db
def test_readyz__redis_down__anonymous_caller__no_error_text():
    with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
        body = Client().get("/readyz").json()

    assert body["checks"] == {"database": "ok", "redis": "unavailable", "broker": "ok"}
    assert "127.0.0.1" not in str(body) and "Error" not in str(body)


@pytest.mark.django_db
def test_readyz__redis_down__signed_in_staff__sees_the_error_text(client_for):
    staff = UserFactory(is_staff=True)
    session = Client()
    session.force_login(staff)

    with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
        by_session = session.get("/readyz").json()
        by_token = client_for(staff).get("/readyz").json()
        by_other_token = client_for(UserFactory()).get("/readyz").json()

    for body in (by_session, by_token):
        assert body["checks"]["redis"].startswith("ConnectionError:")
        assert "127.0.0.1:1" in body["checks"]["redis"]
    assert by_other_token["checks"]["redis"] == "unavailable"


@pytest.mark.django_db
def test_readyz__broker_down__503_naming_broker():
    with override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0"):
        response = Client().get("/readyz")

    assert response.status_code == 503
    assert "broker" in response.json()["down"]


@pytest.mark.django_db
def test_metrics__prometheus_text_with_contract_names():
    text = Client().get("/metrics").content.decode()

    for name in (
        "world_decide_latency_ms",
        "world_apply_duration_ms",
        "world_eval_duration_ms",
        "world_apply_run_total",
        "world_apply_failure_total",
        "activation_skew_seconds",
        "registry_write_fail_total",
        "audit_backlog_depth",
    ):
        assert name in text


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/schema/", "/schema/?format=json", "/docs/", "/redoc/"])
def test_openapi_pages__served_without_a_cdn(path):
    response = Client().get(path)

    assert response.status_code == 200
    assert b"cdn.jsdelivr.net" not in response.content
    assert b"unpkg.com" not in response.content


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query,accept,starts",
    [("?format=json", "*/*", b"{"), ("", "application/json", b"{"), ("", "*/*", b"openapi:")],
)
def test_schema__yaml_or_json_by_accept_or_format(query, accept, starts):
    response = Client().get(f"/schema/{query}", HTTP_ACCEPT=accept)

    assert response.status_code == 200
    assert response.content.lstrip().startswith(starts)
