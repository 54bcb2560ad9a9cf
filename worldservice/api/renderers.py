"""Renderers beyond JSON."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework.renderers import BaseRenderer, JSONRenderer


class YAMLTextRenderer(BaseRenderer):
    """Sends text that is already YAML (a stored policy) exactly as it was stored."""

    media_type = "application/yaml"
    format = "yaml"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if isinstance(data, str):
            return data.encode(self.charset)
        # An error raised before the view chose text: fall back to JSON-compatible YAML.
        import json

        return json.dumps(data, ensure_ascii=False).encode(self.charset)


class TextYAMLRenderer(YAMLTextRenderer):
    media_type = "text/yaml"


class JSONOnlyMixin:
    """For the hot read views: JSON is the only answer, so skip content negotiation."""

    def perform_content_negotiation(self, request: Any, force: bool = False) -> Any:
        renderer = JSONRenderer()
        return renderer, renderer.media_type
