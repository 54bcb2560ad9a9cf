"""Liveness, readiness and metrics endpoints.

`/healthz` is deliberately trivial: it is the baseline the hot read paths are measured against.
`/health` (what the existing Gateway's client polls before it retries) is the same view.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from worldservice import __version__
from worldservice.metrics import audit_backlog_depth, render_metrics

_HEALTH_BODY: bytes | None = None


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    global _HEALTH_BODY
    if _HEALTH_BODY is None:
        import json

        _HEALTH_BODY = json.dumps(
            {
                "status": "ok",
                "version": __version__,
                "compat_rebalance_v2": settings.WORLDSERVICE["COMPAT_REBALANCE_V2"],
                "alpha_metrics_required": settings.WORLDSERVICE["ALPHA_METRICS_REQUIRED"],
            }
        ).encode()
    return HttpResponse(_HEALTH_BODY, content_type="application/json")


def _check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        return f"{type(exc).__name__}: {exc}"
    return None


def _check_redis(url: str) -> str | None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping()
    except Exception as exc:  # noqa: BLE001
        return f"{type(exc).__name__}: {exc}"
    return None


def _check_broker(url: str) -> str | None:
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=1) as conn:
            conn.ensure_connection(max_retries=1, timeout=1)
    except Exception as exc:  # noqa: BLE001
        return f"{type(exc).__name__}: {exc}"
    return None


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, Any] = {"database": _check_database()}
    if settings.REDIS_URL:
        checks["redis"] = _check_redis(settings.REDIS_URL)
    if settings.CELERY_BROKER_URL:
        checks["broker"] = _check_broker(settings.CELERY_BROKER_URL)
    down = sorted(name for name, problem in checks.items() if problem)
    body: dict[str, Any] = {
        "status": "ok" if not down else "unavailable",
        "checks": {name: (problem or "ok") for name, problem in checks.items()},
    }
    if down:
        body.update(
            detail=f"Not ready: {', '.join(down)} unavailable.", code="not_ready", down=down
        )
    return JsonResponse(body, status=503 if down else 200)


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    from worlds.models import WorldEvent

    audit_backlog_depth.set(WorldEvent.objects.filter(relayed_at__isnull=True).count())
    payload, content_type = render_metrics()
    return HttpResponse(payload, content_type=content_type)
