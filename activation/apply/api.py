"""HTTP views of the 2-phase apply."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from activation.apply.models import ApplyPhase, ApplyRun
from activation.apply.services import ApplyRequest, request_apply
from activation.apply.tasks import apply_run
from policies.api.decide_serializers import EvaluateSerializer
from policies.services.evaluations import EvaluationRequest
from worlds.permissions import WorldScopedView
from worlds.roles import Role
from worlds.selectors import get_world
from worldservice.api.actors import acting_user
from worldservice.api.errors import NotFound
from worldservice.api.fields import (
    BlankAsNullCharField,
    BoundedDictField,
    BoundedJSONObjectField,
    BoundedListField,
    ClosedShape,
    StrictFloatField,
    StrictSerializer,
)
from worldservice.api.identifiers import run_id_field, strategy_id_field
from worldservice.api.pagination import PAGE_PARAMS, paginate
from worldservice.api.schema import ERRORS, page_of
from worldservice.dispatch import RunDispatch
from worldservice.limits import MAX_STRATEGIES

EVALUATE_FIELDS = (
    "metrics",
    "series",
    "correlations",
    "previous",
    "policy_version",
    "policy",
    "as_of",
    "stage",
    "simulate",
)


class PlanSerializer(StrictSerializer):
    activate = BoundedListField(
        child=strategy_id_field(), required=False, default=list, max_length=MAX_STRATEGIES
    )
    deactivate = BoundedListField(
        child=strategy_id_field(), required=False, default=list, max_length=MAX_STRATEGIES
    )


class ApplySerializer(StrictSerializer):
    """`run_id` plus one of `plan`, `evaluation_run_id` or `metrics` (with evaluate fields)."""

    run_id = run_id_field()
    plan = PlanSerializer(required=False)
    evaluation_run_id = run_id_field(required=False)
    weights = BoundedDictField(
        max_items=MAX_STRATEGIES, child=StrictFloatField(min_value=0, max_value=1), required=False
    )
    gating_policy = BoundedJSONObjectField(required=False, allow_null=True)

    def to_internal_value(self, data: Any) -> Any:
        # The evaluate-then-apply form carries evaluate's own fields, validated by its serializer.
        if isinstance(data, dict) and "metrics" in data:
            evaluate = EvaluateSerializer(data={k: data[k] for k in EVALUATE_FIELDS if k in data})
            evaluate.is_valid(raise_exception=True)
            rest = {k: v for k, v in data.items() if k not in EVALUATE_FIELDS}
            return {**super().to_internal_value(rest), "evaluation": evaluate.validated_data}
        return super().to_internal_value(data)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        given = [name for name in ("plan", "evaluation_run_id", "evaluation") if name in attrs]
        if len(given) != 1:
            raise serializers.ValidationError(
                {"body": ["Send exactly one of 'plan', 'evaluation_run_id' or 'metrics'."]}
            )
        return attrs


class StageOutSerializer(ClosedShape, serializers.Serializer):
    stage = serializers.ChoiceField(choices=ApplyPhase.values)
    at = serializers.CharField(help_text="UTC RFC 3339 with microseconds.")


class ApplyRunOutSerializer(ClosedShape, serializers.Serializer):
    """An apply run as it stands (docs/api.md, "Async patterns: evaluate and apply")."""

    run_id = serializers.CharField()
    ok = serializers.BooleanField(allow_null=True, help_text="null while the run goes on.")
    phase = serializers.ChoiceField(choices=ApplyPhase.values)
    active = serializers.ListField(
        child=serializers.CharField(), help_text="The target set (or the restored one)."
    )
    stages = StageOutSerializer(many=True)
    error = BlankAsNullCharField(allow_null=True)


class ApplyOutcomeOutSerializer(ClosedShape, serializers.Serializer):
    """A finished run, answered in the apply request's own response; `error` only when rolled
    back."""

    ok = serializers.BooleanField(allow_null=True)
    run_id = serializers.CharField()
    active = serializers.ListField(child=serializers.CharField())
    phase = serializers.ChoiceField(choices=ApplyPhase.values)
    error = serializers.CharField(required=False, allow_blank=True)

    def to_representation(self, instance: ApplyRun) -> dict[str, Any]:
        body: dict[str, Any] = super().to_representation(instance)
        if instance.phase != ApplyPhase.ROLLED_BACK:
            del body["error"]
        return body


def run_json(run: ApplyRun) -> dict[str, Any]:
    return dict(ApplyRunOutSerializer(run).data)


class ApplyView(WorldScopedView):
    write_role = Role.OPERATOR

    @extend_schema(
        responses={200: page_of(ApplyRunOutSerializer, "ApplyRunPage"), **ERRORS},
        parameters=PAGE_PARAMS,
        operation_id="worlds_apply_list",
    )
    def get(self, request: Request, world_id: str) -> Response:
        get_world(world_id)
        return paginate(request, ApplyRun.objects.filter(world_id=world_id)).response(run_json)

    @extend_schema(
        request=ApplySerializer,
        responses={
            200: ApplyOutcomeOutSerializer,
            202: OpenApiResponse(ApplyRunOutSerializer, description="Accepted; see Location"),
            **ERRORS,
        },
    )
    def post(self, request: Request, world_id: str) -> Response:
        serializer = ApplySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        evaluation = data.pop("evaluation", None)
        apply_request = ApplyRequest(
            run_id=data["run_id"],
            plan=data.get("plan"),
            evaluation_run_id=data.get("evaluation_run_id"),
            evaluation=EvaluationRequest(**evaluation) if evaluation is not None else None,
            weights=data.get("weights"),
            gating_policy=data.get("gating_policy"),
        )
        dispatch = RunDispatch(apply_run)
        run, created = request_apply(
            actor=acting_user(request),
            world_id=world_id,
            request=apply_request,
            dispatch=lambda run: dispatch.in_transaction(run.pk, world_id),
        )
        location = f"/worlds/{world_id}/apply/{run.run_id}"
        respond_async = "respond-async" in request.headers.get("Prefer", "")
        # A replayed run still `requested` may never have reached a worker (a lost message):
        # send it again; the stage fences make a double delivery harmless.
        if created or run.phase == ApplyPhase.REQUESTED:
            wait = 0.0 if respond_async else float(settings.WORLDSERVICE["APPLY_WAIT_SECONDS"])
            dispatch.wait(run.pk, world_id, wait_seconds=wait)
            run.refresh_from_db()
        if respond_async or not run.finished:
            return Response(
                run_json(run), status=status.HTTP_202_ACCEPTED, headers={"Location": location}
            )
        return Response(ApplyOutcomeOutSerializer(run).data, headers={"Location": location})


class ApplyRunView(WorldScopedView):
    @extend_schema(responses={200: ApplyRunOutSerializer, **ERRORS})
    def get(self, request: Request, world_id: str, run_id: str) -> Response:
        run = ApplyRun.objects.filter(world_id=world_id, run_id=run_id).first()
        if run is None:
            raise NotFound(f"No apply run {run_id!r} in world {world_id!r}.")
        return Response(run_json(run))
