"""Structured logs for every process: web, worker, beat and relay (docs/operations.md#logs).

One configuration serves structlog's loggers and the standard library's alike: each record goes
through the same processors and one renderer, JSON lines when `WORLDSERVICE_LOG_FORMAT=json`
(the production settings' default) and readable `key=value` lines otherwise (`bin/demo`,
development, the tests). The correlation id is read from `worldservice.context` when a line is
written, so a request that logs nothing pays nothing for it.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog
from django.http import HttpRequest

from worldservice.config import ConfigError
from worldservice.context import correlation_id_in_scope

LOG_FORMATS = ("console", "json")


def log_format(env: Mapping[str, str], default: str) -> str:
    """`WORLDSERVICE_LOG_FORMAT` (`console` or `json`, any case), else `default`."""
    raw = env.get("WORLDSERVICE_LOG_FORMAT", "").strip().lower() or default
    if raw not in LOG_FORMATS:
        raise ConfigError(f"WORLDSERVICE_LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}")
    return raw


def add_correlation_id(
    logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """The correlation id of the work in progress, when there is one.

    A request or task scope (`worldservice.context`) wins over an id bound from a task's
    headers: inside a scope both are the same, and outside one only the header's is there.
    """
    value = correlation_id_in_scope()
    if value is not None:
        event_dict["correlation_id"] = value
    return event_dict


def describe_request(
    logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Django's own request lines carry the request object: log its method and path instead,
    and its correlation id (they are written after the request's scope ended)."""
    request = event_dict.get("request")
    if isinstance(request, HttpRequest):
        event_dict["request"] = f"{request.method} {request.get_full_path()}"
        correlation_id = getattr(request, "correlation_id", None)
        if correlation_id is not None:
            event_dict.setdefault("correlation_id", correlation_id)
    return event_dict


SHARED_PROCESSORS: list[Any] = [
    structlog.contextvars.merge_contextvars,
    add_correlation_id,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def _renderers(fmt: str) -> list[Any]:
    if fmt == "json":
        return [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
    return [structlog.dev.ConsoleRenderer(colors=False)]


def logging_config(fmt: str, level: str) -> dict[str, Any]:
    """Django's `LOGGING`: one console handler whose formatter renders every record as `fmt`."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structured": {
                "()": structlog.stdlib.ProcessorFormatter,
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    *_renderers(fmt),
                ],
                # Records of the standard library's loggers (Django, Celery, our own modules).
                "foreign_pre_chain": [
                    *SHARED_PROCESSORS,
                    structlog.stdlib.ExtraAdder(),
                    describe_request,
                ],
            }
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
        "root": {"handlers": ["console"], "level": level.upper()},
        "loggers": {
            # 4xx answers are in `request_finished` already; Django still logs every 5xx.
            "django.request": {"level": "ERROR"},
            # `task_succeeded` says it (with the correlation id); failures are still logged.
            "celery.app.trace": {"level": "WARNING"},
        },
    }


def configure_structlog() -> None:
    """structlog's loggers hand their events to the standard library's handlers (above).

    `filter_by_level` comes first so a disabled level costs one comparison.
    """
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *SHARED_PROCESSORS,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
