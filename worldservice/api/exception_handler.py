"""DRF's EXCEPTION_HANDLER: every error leaves as `{detail, code, errors?}`."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import DataError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from worldservice.api.errors import InvalidInput, ServiceError, error_body
from worldservice.api.outages import outage_of, unavailable

logger = logging.getLogger(__name__)


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as `{path: [messages]}` with dotted and indexed paths."""
    if isinstance(detail, dict):
        return _flatten_mapping(detail, prefix)
    if isinstance(detail, list):
        return _flatten_list(detail, prefix)
    return {prefix or "body": [str(detail)]}


def _flatten_mapping(detail: dict[Any, Any], prefix: str) -> dict[str, list[str]]:
    flat: dict[str, list[str]] = {}
    for key, value in detail.items():
        flat.update(_flatten(value, _child_path(prefix, key)))
    return flat


def _child_path(prefix: str, key: Any) -> str:
    if isinstance(key, int):  # ListField/DictField errors are keyed by index
        return f"{prefix}[{key}]"
    if key == "non_field_errors":  # about the object itself: its own path
        return prefix or "body"
    return f"{prefix}.{key}" if prefix else str(key)


def _flatten_list(detail: list[Any], prefix: str) -> dict[str, list[str]]:
    if all(not isinstance(item, dict | list) for item in detail):
        return {prefix or "body": [str(item) for item in detail]}
    flat: dict[str, list[str]] = {}
    for index, value in enumerate(detail):
        if value:
            flat.update(_flatten(value, f"{prefix}[{index}]"))
    return flat


def _as_refusal(exc: Exception) -> Exception:
    """A value the database refused although validation let it through (a NUL character, a
    number or a time out of its range) is bad input, not a server fault: 400. Logged, so the
    missing check can be added where the value comes in."""
    if not isinstance(exc, DataError):
        return exc
    logger.warning("the database refused a request value: %s", exc)
    return InvalidInput("A value in the request is out of range or cannot be stored.")


def _as_answerable(exc: Exception) -> Exception:
    """`exc` as one of the errors this handler answers: outages and refusals as service errors,
    Django's 404 and 403 as DRF's."""
    dependency = outage_of(exc)
    if dependency is not None:
        logger.warning("dependency unavailable: %s", exc)
        exc = unavailable(dependency)
    exc = _as_refusal(exc)
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied()
    return exc


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    exc = _as_answerable(exc)
    if isinstance(exc, ServiceError):
        return Response(
            error_body(exc.detail, exc.code, exc.errors),
            status=exc.status_code,
            headers=exc.headers,
        )
    if isinstance(exc, exceptions.ValidationError):
        return Response(
            error_body("The request is not valid.", "invalid", _flatten(exc.detail)),
            status=status.HTTP_400_BAD_REQUEST,
        )
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.APIException):
        _reshape(response, exc)
    return response


def _reshape(response: Response, exc: exceptions.APIException) -> None:
    """DRF's answer to `exc` in the `{detail, code}` shape (with the bearer challenge on 401)."""
    codes = exc.get_codes()
    code = codes if isinstance(codes, str) else exc.default_code
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.default_detail)
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        response.status_code = status.HTTP_401_UNAUTHORIZED
        response["WWW-Authenticate"] = 'Bearer realm="worldservice"'
    response.data = error_body(str(detail), str(code))
