"""HTTP views for decide, its inputs, and evaluate."""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from policies.api.decide_serializers import (
    BindingsSerializer,
    DecisionsSerializer,
    EvaluateSerializer,
    HistoryOutSerializer,
    HistorySerializer,
)
from policies.api.evaluation_serializers import EvaluationRunOutSerializer
from policies.decide_cache import decide_cache_key, fresh_envelope
from policies.decision_ladder import DEFAULT_TTL_SECONDS
from policies.history_entries import history_entry_json
from policies.models import (
    EvaluationRun,
    EvaluationStatus,
    HistoryEntry,
    StrategyBinding,
    WorldDecisions,
)
from policies.services import inputs as input_services
from policies.services.decide import decide
from policies.services.evaluations import EvaluationRequest, request_evaluation
from policies.tasks import evaluate_run
from worlds.hot_path import HotReadView
from worlds.hot_reads import StoreRead, prefetched
from worlds.permissions import WorldScopedView
from worlds.roles import Role
from worlds.selectors import get_world
from worldservice.api.actors import acting_user
from worldservice.api.errors import InvalidInput, NotFound, ServerFailure
from worldservice.api.pagination import PAGE_PARAMS, paginate
from worldservice.api.query import query_params
from worldservice.api.renderers import JSONOnlyMixin
from worldservice.api.responses import conditional_json
from worldservice.api.schema import ERRORS, page_of
from worldservice.clock import TIME_HINT, parse_rfc3339
from worldservice.dispatch import run_and_wait
from worldservice.metrics import world_decide_latency_ms

JSON_OBJECT = OpenApiTypes.OBJECT
logger = logging.getLogger(__name__)
_reported_faults: list[bool] = []


class OperatorWritesView(WorldScopedView):
    write_role = Role.OPERATOR


class DecideView(JSONOnlyMixin, HotReadView):
    """The Gateway's hot read: cached envelope, content-derived ETag, Cache-Control.

    Every GET is answered by `answer` (through `worlds.hot_path.serve_read`, which
    authenticates and checks the role first); the DRF view serves OPTIONS and the schema.
    """

    renderer_classes = [JSONRenderer]

    @classmethod
    def prefetch_plan(
        cls, request: HttpRequest, world_id: str
    ) -> tuple[Sequence[str], StoreRead | None]:
        return [decide_cache_key(world_id)], None

    @classmethod
    def answer(cls, request: Any, world_id: str, values: dict[str, Any]) -> HttpResponse:
        started = time.perf_counter()
        raw = query_params(request).get("as_of")
        if raw:
            return decide_response(request, decide(world_id, _as_of(raw)), started)
        held = _prefetched_envelope(values, world_id)
        if held is not None:  # the copy this process holds: never changed, encoded once
            return decide_response(request, held, started, held=True)
        return decide_response(request, decide(world_id, None), started)

    @extend_schema(
        parameters=[OpenApiParameter("as_of", OpenApiTypes.DATETIME)],
        responses={200: JSON_OBJECT, 304: None, **ERRORS},
        description="The Gateway's hot read: cached envelope, content-derived ETag, Cache-Control.",
    )
    def get(self, request: Request, world_id: str) -> HttpResponse:
        """Never reached through the route (`serve_read` answers GET); the schema's entry."""
        return self.answer(request, world_id, prefetched(request) or {})


def _as_of(raw: str) -> datetime.datetime:
    as_of = parse_rfc3339(raw)
    if as_of is None:
        raise InvalidInput("as_of is not an RFC 3339 time.", errors={"as_of": [TIME_HINT]})
    return as_of


def _prefetched_envelope(values: dict[str, Any], world_id: str) -> dict[str, Any] | None:
    """The cached envelope the prefetch brought, while fresh. A fault here costs speed only:
    the caller computes the envelope instead (and meets the same fault, if it is real)."""
    try:
        return fresh_envelope(values.get(decide_cache_key(world_id)))
    except Exception:  # noqa: BLE001
        if not _reported_faults:  # once per process: this path is hot
            _reported_faults.append(True)
            logger.warning("decide's cached envelope could not be read", exc_info=True)
        return None


def decide_response(
    request: HttpRequest | Request, body: dict[str, Any], started: float, *, held: bool = False
) -> HttpResponse:
    """The envelope (or 304) with its ETag and `Cache-Control: max-age` of its ttl.

    `held`: the envelope is a cached copy, never changed (`worldservice.api.responses`).
    """
    ttl = int(body["ttl"].rstrip("s") or DEFAULT_TTL_SECONDS)
    response = conditional_json(request, body, body["etag"], held=held)
    response["Cache-Control"] = f"max-age={ttl}"
    world_decide_latency_ms.observe((time.perf_counter() - started) * 1000)
    return response


class BindingsView(OperatorWritesView):
    @extend_schema(responses={200: JSON_OBJECT, **ERRORS})
    def get(self, request: Request, world_id: str) -> Response:
        get_world(world_id)
        bound = StrategyBinding.objects.filter(world_id=world_id).values_list(
            "strategy_id", flat=True
        )
        return Response({"strategies": sorted(bound)})

    @extend_schema(request=BindingsSerializer, responses={200: JSON_OBJECT, **ERRORS})
    def post(self, request: Request, world_id: str) -> Response:
        serializer = BindingsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        bound = input_services.add_bindings(
            actor=acting_user(request),
            world_id=world_id,
            strategies=serializer.validated_data["strategies"],
        )
        return Response({"strategies": bound})


class DecisionsView(OperatorWritesView):
    @extend_schema(responses={200: JSON_OBJECT, **ERRORS})
    def get(self, request: Request, world_id: str) -> Response:
        get_world(world_id)
        current = WorldDecisions.objects.filter(world_id=world_id).first()
        return Response({"strategies": list(current.strategies) if current else []})

    @extend_schema(request=DecisionsSerializer, responses={200: JSON_OBJECT, **ERRORS})
    def post(self, request: Request, world_id: str) -> Response:
        serializer = DecisionsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        decided = input_services.set_decisions(
            actor=acting_user(request),
            world_id=world_id,
            strategies=serializer.validated_data["strategies"],
        )
        return Response({"strategies": decided})


class HistoryView(OperatorWritesView):
    @extend_schema(responses={200: HistoryOutSerializer, **ERRORS})
    def get(self, request: Request, world_id: str) -> Response:
        get_world(world_id)
        entries = list(
            HistoryEntry.objects.filter(world_id=world_id).order_by("as_of", "strategy_id")
        )
        latest = max(entries, key=lambda e: (e.as_of, e.updated_at), default=None)
        return Response(
            {
                "entries": [history_entry_json(e) for e in entries],
                "latest": history_entry_json(latest) if latest else None,
            }
        )

    @extend_schema(request=HistorySerializer, responses={204: None, **ERRORS})
    def post(self, request: Request, world_id: str) -> Response:
        serializer = HistorySerializer(data=request.data, context={"world_id": world_id})
        serializer.is_valid(raise_exception=True)
        input_services.upsert_history(
            actor=acting_user(request),
            world_id=world_id,
            update=input_services.HistoryUpdate(**serializer.validated_data),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


def evaluation_json(run: EvaluationRun) -> dict[str, Any]:
    return dict(EvaluationRunOutSerializer(run).data)


class EvaluateView(OperatorWritesView):
    @extend_schema(
        request=EvaluateSerializer,
        responses={
            200: EvaluationRunOutSerializer,
            202: OpenApiResponse(EvaluationRunOutSerializer, description="still running"),
            **ERRORS,
        },
    )
    def post(self, request: Request, world_id: str) -> Response:
        serializer = EvaluateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        run = request_evaluation(
            actor=acting_user(request),
            world_id=world_id,
            request=EvaluationRequest(**serializer.validated_data),
        )
        if run.status == EvaluationStatus.PENDING:
            wait = float(settings.WORLDSERVICE["APPLY_WAIT_SECONDS"])
            run_and_wait(evaluate_run, run.pk, wait_seconds=wait)
            run.refresh_from_db()
        location = f"/worlds/{world_id}/evaluations/{run.run_id}"
        if run.status == EvaluationStatus.PENDING:
            return Response(
                evaluation_json(run),
                status=status.HTTP_202_ACCEPTED,
                headers={"Location": location},
            )
        if run.status == EvaluationStatus.FAILED:
            raise ServerFailure(f"The evaluation failed: {run.error}", code="evaluation_failed")
        return Response(evaluation_json(run), headers={"Location": location})


class EvaluationListView(WorldScopedView):
    @extend_schema(
        responses={200: page_of(EvaluationRunOutSerializer, "EvaluationRunPage"), **ERRORS},
        parameters=PAGE_PARAMS,
        operation_id="worlds_evaluations_list",
    )
    def get(self, request: Request, world_id: str) -> Response:
        get_world(world_id)
        runs = EvaluationRun.objects.filter(world_id=world_id)
        return paginate(request, runs).response(evaluation_json)


class EvaluationDetailView(WorldScopedView):
    @extend_schema(responses={200: EvaluationRunOutSerializer, **ERRORS})
    def get(self, request: Request, world_id: str, run_id: str) -> Response:
        run = EvaluationRun.objects.filter(world_id=world_id, run_id=run_id).first()
        if run is None:
            raise NotFound(f"No evaluation run {run_id!r} in world {world_id!r}.")
        return Response(evaluation_json(run))
