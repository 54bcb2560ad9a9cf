"""OpenAPI plumbing: the bearer scheme, the error body and the page envelope."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerExtension
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from drf_spectacular.views import SpectacularAPIView
from rest_framework import serializers
from rest_framework.request import Request

from worldservice.api.fields import ClosedShape, StrictSerializer


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "worlds.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "`Authorization: Bearer <token>` (the keyword `Token` works too).",
        }


# A plain Serializer cannot declare a field named `errors` (it shadows the property).
ERROR_BODY = inline_serializer(
    "Error",
    fields={
        "detail": serializers.CharField(help_text="A sentence for people."),
        "code": serializers.CharField(help_text="A stable word for programs."),
        "errors": serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()),
            required=False,
            help_text="Per field or document path, the messages.",
        ),
    },
)


def page_of(item: type[serializers.Serializer], name: str) -> Any:
    """A cursor page `{"results": [item], "next": url|null}`."""
    return inline_serializer(
        name,
        fields={
            "results": item(many=True),
            "next": serializers.URLField(allow_null=True),
        },
    )


ERRORS = {status: OpenApiResponse(ERROR_BODY) for status in (400, 401, 403, 404, 409, 412)}


class _ClosedObject(OpenApiSerializerExtension):
    """Request bodies refuse unknown keys (`StrictSerializer`) and some answers are exactly
    their fields (`ClosedShape`): the schema says so with `additionalProperties: false`."""

    target_class = "rest_framework.serializers.Serializer"
    match_subclasses = True

    @classmethod
    def _matches(cls, target: Any) -> bool:
        kind = target if isinstance(target, type) else type(target)
        return issubclass(kind, StrictSerializer | ClosedShape)

    def map_serializer(self, auto_schema: Any, direction: Any) -> Any:
        # The documented way for an extension to reuse drf-spectacular's own mapping.
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        return {**schema, "additionalProperties": False}


class SchemaView(SpectacularAPIView):
    """`/schema/`: YAML, or JSON by `Accept` or `?format=json`.

    DRF's own `?format=` switch is off service-wide (audit exports use `format=csv|jsonl`), so
    this view honours it for the schema itself.
    """

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        wanted = request.query_params.get("format")
        for renderer in self.get_renderers():
            if wanted and renderer.format == wanted:
                return renderer, renderer.media_type
        return super().perform_content_negotiation(request, force)


# Answers any route may give, whatever its view declares (docs/api.md, "Errors"): the throttles
# and the dependency timeouts apply everywhere, the body limit wherever there is a body.
EVERY_ROUTE = {
    "429": "Too many failed authentications from the address, or too many writes "
    "(`Retry-After` says when to try again).",
    "503": "A dependency is down or did not answer in time (`Retry-After`).",
}
WITH_A_BODY = {"413": "The body is over the size limit."}
METHODS = ("get", "put", "post", "patch", "delete")


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def document_shared_errors(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: add the shared error answers to every operation."""
    for path_item in result.get("paths", {}).values():
        for method in METHODS:
            operation = path_item.get(method)
            if operation is None:
                continue
            shared = {**EVERY_ROUTE, **(WITH_A_BODY if "requestBody" in operation else {})}
            responses = operation.setdefault("responses", {})
            for status, description in shared.items():
                responses.setdefault(status, _error_response(description))
    return result
