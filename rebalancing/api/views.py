"""HTTP views of rebalancing and allocations."""

from __future__ import annotations

import time
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from rebalancing import services
from rebalancing.models import WorldAllocation
from rebalancing.planner import plan_to_dict, worlds_named
from worlds.roles import Role, world_permissions
from worldservice.api.actors import acting_user
from worldservice.api.errors import InvalidInput, NotFound
from worldservice.api.fields import ClosedShape, WireTimeField
from worldservice.api.schema import ERRORS

ALLOCATION_TTL_SECONDS = 300


def _body(request: Request) -> dict[str, Any]:
    if not isinstance(request.data, dict):
        raise InvalidInput("Expected a JSON object.", errors={"body": ["Expected an object."]})
    return dict(request.data)


class RebalancePlanView(APIView):
    """Pure planning: nothing is stored."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=OpenApiTypes.OBJECT, responses={200: OpenApiTypes.OBJECT, **ERRORS})
    def post(self, request: Request) -> Response:
        plan_request = services.parse(_body(request))
        world_permissions.require_on_all(
            acting_user(request), worlds_named(plan_request), Role.READER
        )
        return Response(plan_to_dict(services.plan(plan_request)))


class RebalanceApplyView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=OpenApiTypes.OBJECT, responses={200: OpenApiTypes.OBJECT, **ERRORS})
    def post(self, request: Request) -> Response:
        return Response(services.apply_rebalancing(actor=acting_user(request), data=_body(request)))


class AllocationOutSerializer(ClosedShape, serializers.Serializer):
    """A world's latest allocation; `stale` once older than `ttl`."""

    # `stale` is measured against the context's `now_ts`, one moment for the whole answer.

    world_id = serializers.CharField()
    allocation = serializers.FloatField(help_text="Share of total equity.")
    run_id = serializers.CharField()
    etag = serializers.CharField()
    strategy_alloc_total = serializers.JSONField(allow_null=True)
    updated_at = WireTimeField(seconds=True)
    ttl = serializers.SerializerMethodField()
    stale = serializers.SerializerMethodField()

    def get_ttl(self, allocation: WorldAllocation) -> str:
        return f"{ALLOCATION_TTL_SECONDS}s"

    def get_stale(self, allocation: WorldAllocation) -> bool:
        age: float = self.context["now_ts"] - allocation.updated_at.timestamp()
        return age > ALLOCATION_TTL_SECONDS


class AllocationsOutSerializer(ClosedShape, serializers.Serializer):
    allocations = serializers.DictField(child=AllocationOutSerializer(), help_text="By world id.")


class AllocationsView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[OpenApiParameter("world_id", str)],
        responses={200: AllocationsOutSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        world_id = request.query_params.get("world_id")
        if world_id:
            world_permissions.require(request.user, world_id, Role.READER)
            rows = list(WorldAllocation.objects.filter(world_id=world_id))
            if not rows:
                raise NotFound(f"World {world_id!r} has no allocation yet.")
        else:
            rows = list(
                WorldAllocation.objects.filter(
                    world_id__in=world_permissions.visible_worlds(request.user).values("pk")
                )
            )
        body = {"allocations": {allocation.world_id: allocation for allocation in rows}}
        return Response(AllocationsOutSerializer(body, context={"now_ts": time.time()}).data)

    @extend_schema(request=OpenApiTypes.OBJECT, responses={200: OpenApiTypes.OBJECT, **ERRORS})
    def post(self, request: Request) -> Response:
        return Response(
            services.upsert_allocations(actor=acting_user(request), data=_body(request))
        )
