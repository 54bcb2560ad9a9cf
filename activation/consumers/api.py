"""HTTP views of Gateway convergence: acknowledge a version, list each consumer's lag."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from activation.consumers import selectors
from activation.consumers.serializers import (
    AcknowledgementSerializer,
    ConsumerSerializer,
    ConvergenceSerializer,
)
from activation.consumers.services import Acknowledgement, acknowledge
from worlds.permissions import WorldScopedView
from worlds.roles import Role
from worlds.selectors import get_world
from worldservice.api.schema import ERRORS
from worldservice.clock import rfc3339


def _consumer_body(state: selectors.ConsumerState) -> dict[str, Any]:
    return {
        "consumer": state.consumer,
        "etag": state.etag,
        "version": state.version,
        "run_id": state.run_id,
        "sequence": state.sequence,
        "processed_at": rfc3339(state.processed_at),
        "acked_at": rfc3339(state.acked_at),
        "skew_seconds": state.skew_seconds,
        "lag_versions": state.lag_versions,
        "lag_seconds": round(state.lag_seconds, 3),
        "stale": state.stale,
    }


def convergence_body(world_id: str) -> dict[str, Any]:
    view = selectors.convergence(world_id)
    return {
        "world_id": view.world_id,
        "version": view.version,
        "version_at": rfc3339(view.version_at) if view.version_at else None,
        "converged": view.converged,
        "consumers": [_consumer_body(state) for state in view.consumers],
    }


class AcknowledgeView(WorldScopedView):
    """A consumer (Gateway, SDK) says it processed an activation version (reader or above)."""

    write_role = Role.READER

    @extend_schema(
        request=AcknowledgementSerializer,
        responses={200: ConsumerSerializer, **ERRORS},
        description="Record that `consumer` processed the activation version `etag` names "
        "(docs/activation.md#gateway-convergence). 400 for an etag of another world or of a "
        "version never issued, or a `processed_at` beyond the tolerated clock skew; 409 "
        "`too_many_consumers`. An older version than the consumer's last is accepted and "
        "changes nothing.",
        operation_id="worlds_activation_ack_create",
    )
    def post(self, request: Request, world_id: str) -> Response:
        serializer = AcknowledgementSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        stored = acknowledge(world_id, Acknowledgement(**serializer.validated_data))
        return Response(_consumer_body(selectors.consumer_state(stored)))


class ConsumersView(WorldScopedView):
    """Each consumer's last acknowledged activation version and its lag (reader)."""

    @extend_schema(
        responses={200: ConvergenceSerializer, **ERRORS}, operation_id="worlds_consumers_list"
    )
    def get(self, request: Request, world_id: str) -> Response:
        get_world(world_id)
        return Response(convergence_body(world_id))
