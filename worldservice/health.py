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

from worldservice import __version__
from worldservice.metrics import audit_backlog_depth, render_metrics
from worldservice.redis_clients import guard_open, new_client

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
    """Each configured dependency, and what is wrong with it (None when it answers)."""
    checks = {"database": _check_database()}
    if settings.REDIS_URL:
        checks["redis"] = _check_redis(settings.REDIS_URL)
    if settings.CELERY_BROKER_URL:
        checks["broker"] = _check_broker(settings.CELERY_BROKER_URL)
    return checks


def _readiness_body(
    checks: dict[str, str | None], down: list[str], *, details: bool
) -> dict[str, Any]:
    """The `/readyz` body; the problems' own text only when `details` may be shown."""

    def shown(problem: str | None) -> str:
        if not problem:
            return "ok"
        return problem if details else "unavailable"

    body: dict[str, Any] = {
        "status": "unavailable" if down else "ok",
        "checks": {name: shown(problem) for name, problem in checks.items()},
    }
    if down:
        body.update(
            detail=f"Not ready: {', '.join(down)} unavailable.", code="not_ready", down=down
        )
    return body


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """200 when every dependency answers; else 503 naming the ones that do not.

    Each check waits at most that dependency's timeout (none at all while Redis's hang guard is
    open). The error text is only shown to signed-in staff: it can name hosts and users.
    """
    checks = _dependency_checks()
    down = sorted(name for name, problem in checks.items() if problem)
    body = _readiness_body(checks, down, details=bool(down) and _sees_details(request))
    response = JsonResponse(body, status=503 if down else 200)
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    from worlds.models import WorldEvent

    audit_backlog_depth.set(WorldEvent.objects.filter(relayed_at__isnull=True).count())
    payload, content_type = render_metrics()
    return HttpResponse(payload, content_type=content_type)
