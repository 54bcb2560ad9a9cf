"""HTTP views for policy versions: upload, read, diff, review and set-default."""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from policies import selectors
from policies.api.serializers import (
    DiffOutSerializer,
    PolicyUploadSerializer,
    ReviewOutSerializer,
    ReviewSerializer,
    SetDefaultSerializer,
    UploadOutSerializer,
    VersionOutSerializer,
    VersionSummaryOutSerializer,
    review_json,
    version_json,
    version_summary_json,
)
from policies.models import ReviewDecision
from policies.services.defaults import set_default_version
from policies.services.reviews import review_policy
from policies.services.uploads import PolicySource, upload_policy
from worlds.permissions import (
    ReviewableWorldView,
    WorldScopedView,
    require_member_or_approver,
)
from worlds.roles import Role
from worlds.selectors import get_world
from worldservice.api.actors import acting_user
from worldservice.api.errors import InvalidInput, NotFound
from worldservice.api.etags import if_match, with_etag
from worldservice.api.parsers import PolicyText, StrictJSONParser, TextYAMLParser, YAMLTextParser
from worldservice.api.renderers import TextYAMLRenderer, YAMLTextRenderer
from worldservice.api.schema import ERRORS
from worldservice.limits import MAX_VERSION

YAML_MEDIA_TYPES = ("application/yaml", "text/yaml")
VERSION_PATTERN = re.compile(r"[0-9]{1,10}")


class PolicyReadableView(ReviewableWorldView):
    """Readers of the world may read its policies, and so may approvers (to review them)."""


def _parse_version(raw: str | None) -> int | None:
    """A version number from a path or query (`1`…`MAX_VERSION`), or None."""
    if raw is None or not VERSION_PATTERN.fullmatch(raw):
        return None
    version = int(raw)
    return version if 1 <= version <= MAX_VERSION else None


def _version_number(raw: str) -> int:
    version = _parse_version(raw)
    if version is None:
        raise NotFound(f"No policy version {raw[:40]!r}.")
    return version


class PolicyListView(PolicyReadableView):
    parser_classes = [StrictJSONParser, YAMLTextParser, TextYAMLParser]

    @extend_schema(responses={200: VersionSummaryOutSerializer(many=True), **ERRORS})
    def get(self, request: Request, world_id: str) -> Response:
        return Response([version_summary_json(p) for p in selectors.versions(world_id)])

    @extend_schema(
        request={"application/json": PolicyUploadSerializer, "application/yaml": str},
        responses={201: UploadOutSerializer, **ERRORS},
    )
    def post(self, request: Request, world_id: str) -> Response:
        if isinstance(request.data, PolicyText):
            source, valid_from = PolicySource(text=str(request.data)), None
        else:
            serializer = PolicyUploadSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
            source = PolicySource(
                text=data.get("yaml"),
                document=data.get("policy"),
                preset=data.get("preset"),
                preset_overrides=data.get("preset_overrides"),
                preset_mode=data.get("preset_mode"),
                preset_version=data.get("preset_version"),
            )
            valid_from = data.get("valid_from")
        policy = upload_policy(
            actor=acting_user(request), world_id=world_id, source=source, valid_from=valid_from
        )
        return Response(
            {"version": policy.version, "status": policy.status, "checksum": policy.checksum},
            status=status.HTTP_201_CREATED,
            headers={"Location": f"/worlds/{world_id}/policies/{policy.version}"},
        )


class PolicyDetailView(PolicyReadableView):
    renderer_classes = [JSONRenderer, YAMLTextRenderer, TextYAMLRenderer]

    @extend_schema(responses={200: VersionOutSerializer, **ERRORS})
    def get(self, request: Request, world_id: str, version: str) -> Response:
        policy = selectors.get_version(world_id, _version_number(version))
        if request.accepted_renderer.media_type in YAML_MEDIA_TYPES:
            return Response(policy.yaml)
        return Response(version_json(policy))


class PolicyDiffView(PolicyReadableView):
    @extend_schema(
        responses={200: DiffOutSerializer, **ERRORS}, parameters=[OpenApiParameter("against", int)]
    )
    def get(self, request: Request, world_id: str, version: str) -> Response:
        raw_against = request.query_params.get("against")
        against = _version_number(raw_against) if raw_against else None
        return Response(
            {"diff": selectors.version_diff(world_id, _version_number(version), against)}
        )


class PolicyReviewView(WorldScopedView):
    """Approvers review; the service refuses authors and callers without the permission."""

    decision: ReviewDecision

    def required_role(self, request: Request) -> Role | None:
        return None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        # For every method (OPTIONS too): neither a role nor the approver right is 404.
        require_member_or_approver(request, self.world_id)

    @extend_schema(request=ReviewSerializer, responses={200: ReviewOutSerializer, **ERRORS})
    def post(self, request: Request, world_id: str, version: str) -> Response:
        user = acting_user(request)
        serializer = ReviewSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        review = review_policy(
            actor=user,
            world_id=world_id,
            version=_version_number(version),
            decision=self.decision,
            comment=serializer.validated_data["comment"],
        )
        return Response(review_json(review))


class PolicyApproveView(PolicyReviewView):
    decision = ReviewDecision.APPROVE


class PolicyRejectView(PolicyReviewView):
    decision = ReviewDecision.REJECT


class SetDefaultView(WorldScopedView):
    @extend_schema(
        request=SetDefaultSerializer,
        parameters=[OpenApiParameter("v", int, description="The version (or in the body).")],
        responses={
            200: VersionOutSerializer,
            409: OpenApiResponse(description="approval_required"),
            **ERRORS,
        },
    )
    def post(self, request: Request, world_id: str) -> Response:
        serializer = SetDefaultSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        version = serializer.validated_data.get("version")
        if version is None:
            version = _parse_version(request.query_params.get("v"))
            if version is None:
                raise InvalidInput(
                    'Name the version: {"version": N} or ?v=N.',
                    errors={"version": ["This field is required."]},
                )
        set_default_version(
            actor=acting_user(request),
            world_id=world_id,
            version=version,
            expected_etags=if_match(request),
        )
        world = get_world(world_id)
        policy = selectors.get_version(world_id, version)
        return with_etag(Response(version_json(policy)), world.etag)
