"""HTTP views of rebalancing and allocations."""

from __future__ import annotations

import time
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
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
from worldservice.api.schema import ERRORS
from worldservice.clock import rfc3339

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


def allocation_json(allocation: WorldAllocation, now_ts: float) -> dict[str, Any]:
    age = now_ts - allocation.updated_at.timestamp()
    return {
        "world_id": allocation.world_id,
        "allocation": allocation.allocation,
        "run_id": allocation.run_id,
        "etag": allocation.etag,
        "strategy_alloc_total": allocation.strategy_alloc_total,
        "updated_at": rfc3339(allocation.updated_at, seconds=True),
        "ttl": f"{ALLOCATION_TTL_SECONDS}s",
        "stale": age > ALLOCATION_TTL_SECONDS,
    }


class AllocationsView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[OpenApiParameter("world_id", str)],
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
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
        now_ts = time.time()
        return Response({"allocations": {a.world_id: allocation_json(a, now_ts) for a in rows}})

    @extend_schema(request=OpenApiTypes.OBJECT, responses={200: OpenApiTypes.OBJECT, **ERRORS})
    def post(self, request: Request) -> Response:
        return Response(
            services.upsert_allocations(actor=acting_user(request), data=_body(request))
        )
