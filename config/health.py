"""Liveness, readiness and metrics endpoints.

`/healthz` is deliberately trivial: it is the baseline the hot read paths are measured against,
and it touches no dependency, so it answers while any of them is down.
`/health` (what the existing Gateway's client polls before it retries) is the same view.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from worlds.hot_lane import open_to_the_lane
from worldservice import __version__
from worldservice.clock_health import (
    SERVER_SKEW_LIMIT_SECONDS,
    ClockOffset,
    database_offset,
    redis_offset,
)
from worldservice.metrics import (
    activation_stale_consumers,
    audit_backlog_depth,
    clock_offset_seconds,
    render_metrics,
)
from worldservice.redis_clients import guard_open, new_client

_HEALTH_BODY: bytes | None = None


@open_to_the_lane  # polled every few seconds: answered before the middleware stack
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


@lru_cache(maxsize=4)
def _redis_client(url: str) -> Any:
    return new_client(url)


def _check_redis(url: str) -> str | None:
    try:
        _redis_client(url).ping()  # fails at once while the hang guard is open
    except Exception as exc:  # noqa: BLE001
        return f"{type(exc).__name__}: {exc}"
    return None


def _check_broker(url: str) -> str | None:
    from kombu import Connection

    if url.startswith(("redis://", "rediss://")) and guard_open(url):
        return "ConnectionError: the broker's Redis did not answer in time recently"
    timeout = float(settings.WORLDSERVICE["BROKER_TIMEOUT_SECONDS"])
    options = {"socket_timeout": timeout, "socket_connect_timeout": timeout}
    try:
        with Connection(url, connect_timeout=timeout, transport_options=options) as conn:
            conn.ensure_connection(max_retries=0, timeout=max(1, round(timeout)))
    except Exception as exc:  # noqa: BLE001
        return f"{type(exc).__name__}: {exc}"
    return None


def _sees_details(request: HttpRequest) -> bool:
    """Signed-in staff (a session, or a bearer token of a staff user) see the error text."""
    from django.contrib.auth import get_user_model

    from worlds.authentication import bearer_secret
    from worlds.services.tokens import user_for_token

    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:  # a session (token requests have none)
        return bool(user.is_staff)
    try:
        secret = bearer_secret(request)
        holder = user_for_token(secret) if secret else None
        # The token cache keeps no more than the hot reads need (no staff flag): ask the table.
        return holder is not None and (
            get_user_model().objects.filter(pk=holder.pk, is_staff=True, is_active=True).exists()
        )
    except Exception:  # noqa: BLE001 - a bad token or a dependency down: no details
        return False


def _dependency_checks() -> dict[str, str | None]:
    """Each configured dependency's problem, or None when it answers."""
    checks: dict[str, str | None] = {"database": _check_database()}
    if settings.REDIS_URL:
        checks["redis"] = _check_redis(settings.REDIS_URL)
    if settings.CELERY_BROKER_URL:
        checks["broker"] = _check_broker(settings.CELERY_BROKER_URL)
    return checks


def _shown(problem: str | None, details: bool) -> str:
    if not problem:
        return "ok"
    return problem if details else "unavailable"


def _clock_offsets(checks: dict[str, Any]) -> list[ClockOffset]:
    """The host clock against each reference that answered (a down one is not measured)."""
    offsets = []
    if not checks.get("database"):
        offsets.append(database_offset())
    if settings.REDIS_URL and not checks.get("redis"):
        offsets.append(redis_offset(_redis_client(settings.REDIS_URL)))
    return offsets


def _clock_item(checks: dict[str, Any]) -> dict[str, Any]:
    """The documented health item `clock` (docs/operations.md#clocks): reported, never a 503.

    A skewed clock is for the operator to fix; taking every host out of service at once
    because one reference's clock moved would be worse.
    """
    try:
        offsets = _clock_offsets(checks)
    except Exception as exc:  # noqa: BLE001 - a reference failing between checks
        return {"status": "unknown", "detail": type(exc).__name__}
    for offset in offsets:
        clock_offset_seconds.labels(offset.reference).set(offset.offset_seconds)
    return {
        "status": "ok" if all(offset.within_limit for offset in offsets) else "skewed",
        "limit_seconds": SERVER_SKEW_LIMIT_SECONDS,
        "offsets_seconds": {
            offset.reference: round(offset.offset_seconds, 4) for offset in offsets
        },
    }


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """200 when every dependency answers; else 503 naming the ones that do not.

    Each check waits at most that dependency's timeout (none at all while Redis's hang guard is
    open). The error text is only shown to signed-in staff: it can name hosts and users.
    """
    checks = _dependency_checks()
    down = sorted(name for name, problem in checks.items() if problem)
    details = bool(down) and _sees_details(request)
    body: dict[str, Any] = {
        "status": "ok" if not down else "unavailable",
        "checks": {name: _shown(problem, details) for name, problem in checks.items()},
    }
    body["clock"] = _clock_item(checks)
    if down:
        body.update(
            detail=f"Not ready: {', '.join(down)} unavailable.", code="not_ready", down=down
        )
    response = JsonResponse(body, status=503 if down else 200)
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    from activation.consumers.selectors import stale_consumer_count
    from worlds.models import WorldEvent

    audit_backlog_depth.set(WorldEvent.objects.filter(relayed_at__isnull=True).count())
    activation_stale_consumers.set(stale_consumer_count())
    _clock_item({})
    payload, content_type = render_metrics()
    return HttpResponse(payload, content_type=content_type)
