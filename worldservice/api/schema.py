"""OpenAPI plumbing: the bearer scheme, the error body and the page envelope."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from drf_spectacular.views import SpectacularAPIView
from rest_framework import serializers
from rest_framework.request import Request


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
