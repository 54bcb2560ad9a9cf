"""The error shape `{detail, code, errors?}` for every 4xx/5xx answer, and the service errors.

Services raise `ServiceError` subclasses; they know nothing of HTTP beyond the status each error
maps to, so the admin and the CLI can show the same sentence the API sends.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rest_framework import status


class ServiceError(Exception):
    """A refusal a caller can act on."""

    status_code: int = status.HTTP_400_BAD_REQUEST
    code = "invalid"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        errors: Mapping[str, Sequence[str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        self.errors = {key: list(messages) for key, messages in (errors or {}).items()}
        self.headers = dict(headers or {})


class InvalidInput(ServiceError):
    status_code: int = status.HTTP_400_BAD_REQUEST
    code = "invalid"


class Forbidden(ServiceError):
    status_code: int = status.HTTP_403_FORBIDDEN
    code = "permission_denied"


class NotFound(ServiceError):
    status_code: int = status.HTTP_404_NOT_FOUND
    code = "not_found"


class Conflict(ServiceError):
    status_code: int = status.HTTP_409_CONFLICT
    code = "conflict"


class PreconditionFailed(ServiceError):
    status_code: int = status.HTTP_412_PRECONDITION_FAILED
    code = "precondition_failed"


class RequestTooLarge(ServiceError):
    status_code: int = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    code = "request_too_large"


class ServerFailure(ServiceError):
    """Work the service accepted but could not carry out (a bug or a crash, not bad input)."""

    status_code: int = status.HTTP_500_INTERNAL_SERVER_ERROR
    code = "server_error"


class DependencyUnavailable(ServiceError):
    status_code: int = status.HTTP_503_SERVICE_UNAVAILABLE
    code = "dependency_unavailable"


def error_body(
    detail: str, code: str, errors: Mapping[str, Sequence[str]] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"detail": detail, "code": code}
    if errors:
        body["errors"] = {
            key: [str(message) for message in messages] for key, messages in errors.items()
        }
    return body
