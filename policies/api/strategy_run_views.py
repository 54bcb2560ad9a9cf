"""HTTP views of a strategy's evaluation runs (docs/api.md#a-strategys-evaluation-runs): the runs
that evaluated it, and per run its part of the result, the metrics it was evaluated on and the
history entry it used.

Read from the evaluation runs `POST /worlds/{id}/evaluate` records; reader role.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from policies import selectors
from policies.api.strategy_run_serializers import (
    StrategyRunHistoryOutSerializer,
    StrategyRunMetricsOutSerializer,
    StrategyRunOutSerializer,
)
from worlds.permissions import WorldScopedView
from worldservice.api.pagination import PAGE_PARAMS, paginate
from worldservice.api.schema import ERRORS, page_of


class StrategyRunListView(WorldScopedView):
    @extend_schema(
        parameters=PAGE_PARAMS,
        responses={200: page_of(StrategyRunOutSerializer, "StrategyRunPage"), **ERRORS},
        description="The runs that evaluated the strategy, newest first (empty when none did).",
        operation_id="worlds_strategies_runs_list",
    )
    def get(self, request: Request, world_id: str, strategy_id: str) -> Response:
        runs = selectors.strategy_runs(world_id, strategy_id)
        page = paginate(request, runs, newest_first=True)
        context = {"strategy_id": strategy_id}
        return page.response(lambda run: StrategyRunOutSerializer(run, context=context).data)


class StrategyRunDetailView(WorldScopedView):
    @extend_schema(
        responses={200: StrategyRunOutSerializer, **ERRORS},
        description="The strategy's part of one run; 404 when the run did not evaluate it.",
    )
    def get(self, request: Request, world_id: str, strategy_id: str, run_id: str) -> Response:
        run = selectors.strategy_run(world_id, strategy_id, run_id)
        return Response(StrategyRunOutSerializer(run, context={"strategy_id": strategy_id}).data)


class StrategyRunMetricsView(WorldScopedView):
    @extend_schema(
        responses={200: StrategyRunMetricsOutSerializer, **ERRORS},
        description="The metrics (and return series) the run evaluated the strategy on.",
    )
    def get(self, request: Request, world_id: str, strategy_id: str, run_id: str) -> Response:
        run = selectors.strategy_run_inputs(world_id, strategy_id, run_id)
        context = {"strategy_id": strategy_id}
        return Response(StrategyRunMetricsOutSerializer(run, context=context).data)


class StrategyRunHistoryView(WorldScopedView):
    @extend_schema(
        responses={200: StrategyRunHistoryOutSerializer, **ERRORS},
        description="The data-history entry the run evaluated the strategy against.",
    )
    def get(self, request: Request, world_id: str, strategy_id: str, run_id: str) -> Response:
        run = selectors.strategy_run_history(world_id, strategy_id, run_id)
        context = {"strategy_id": strategy_id}
        return Response(StrategyRunHistoryOutSerializer(run, context=context).data)
