"""HTTP views for worlds, members and the audit log: parse, call one service, render."""

from __future__ import annotations

from typing import Any

from django.http.response import HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from worlds import hooks, selectors
from worlds.api.serializers import (
    DescribeOutSerializer,
    MemberOutSerializer,
    MemberRoleSerializer,
    VerifyOutSerializer,
    WorldChangeOutSerializer,
    WorldCreateSerializer,
    WorldOutSerializer,
    WorldUpdateSerializer,
    world_change_json,
    world_json,
)
from worlds.audit import verify_world_chain
from worlds.audit_export import EXPORT_FORMATS, AuditRowSerializer, audit_json, export_response
from worlds.models import WorldState
from worlds.permissions import WorldScopedView
from worlds.roles import Role, world_permissions
from worlds.services import members as member_services
from worlds.services import worlds as world_services
from worldservice.api.actors import acting_user
from worldservice.api.errors import InvalidInput
from worldservice.api.etags import if_match, not_modified, not_modified_response, with_etag
from worldservice.api.pagination import PAGE_PARAMS, paginate
from worldservice.api.schema import ERRORS, page_of
from worldservice.clock import TIME_HINT, parse_rfc3339

STATE_PARAM = OpenApiParameter(
    "state",
    str,
    enum=WorldState.values,
    description="DELETED worlds are listed only when asked for.",
)
LABEL_PARAM = OpenApiParameter("label", str, description="Worlds carrying this label.")
AUDIT_PARAMS = [
    OpenApiParameter("event", str),
    OpenApiParameter("actor", str),
    OpenApiParameter("since", OpenApiTypes.DATETIME),
    OpenApiParameter("until", OpenApiTypes.DATETIME),
    OpenApiParameter(
        "format",
        str,
        enum=["json", "csv", "jsonl"],
        description="csv and jsonl stream every filtered row.",
    ),
    *PAGE_PARAMS,
]
AUDIT_PAGE = page_of(AuditRowSerializer, "AuditPage")
# `?format=csv|jsonl` streams text: the schema names each media type the route answers with.
AUDIT_RESPONSES: dict[Any, Any] = {
    (200, "application/json"): AUDIT_PAGE,
    (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="`?format=csv`"),
    (200, "application/x-ndjson"): OpenApiResponse(
        OpenApiTypes.STR, description="`?format=jsonl`: one audit row (JSON) per line."
    ),
    **ERRORS,
}
UPDATE_RESPONSES = {
    200: WorldOutSerializer,
    202: OpenApiResponse(
        WorldChangeOutSerializer,
        description="The update loosens the governance of a world that requires approvals: "
        "nothing changed yet; it is held as a pending world change (see `Location`).",
    ),
    **ERRORS,
}


class WorldListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses={200: page_of(WorldOutSerializer, "WorldPage"), **ERRORS},
        parameters=[STATE_PARAM, LABEL_PARAM, *PAGE_PARAMS],
        operation_id="worlds_list",
    )
    def get(self, request: Request) -> Response:
        state = request.query_params.get("state") or None
        if state is not None and state not in WorldState.values:
            raise InvalidInput("Unknown state.", errors={"state": [f"One of {WorldState.values}."]})
        worlds = selectors.filter_worlds(
            world_permissions.visible_worlds(request.user),
            state=state,
            label=request.query_params.get("label"),
        )
        return paginate(request, worlds).response(world_json)

    @extend_schema(request=WorldCreateSerializer, responses={201: WorldOutSerializer, **ERRORS})
    def post(self, request: Request) -> Response:
        world_permissions.require_create_world(request.user)
        serializer = WorldCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        world = world_services.create_world(
            actor=acting_user(request), world_id=fields.pop("id"), **fields
        )
        response = Response(
            world_json(world),
            status=status.HTTP_201_CREATED,
            headers={"Location": f"/worlds/{world.id}"},
        )
        return with_etag(response, world.etag)


class WorldDetailView(WorldScopedView):
    @extend_schema(responses={200: WorldOutSerializer, 304: None, **ERRORS})
    def get(self, request: Request, world_id: str) -> HttpResponseBase:
        world = selectors.get_world(world_id)
        if not_modified(request, world.etag):
            return not_modified_response(world.etag)
        return with_etag(Response(world_json(world)), world.etag)

    @extend_schema(request=WorldUpdateSerializer, responses=UPDATE_RESPONSES)
    def put(self, request: Request, world_id: str) -> Response:
        return self._update(request, partial=False)

    @extend_schema(request=WorldUpdateSerializer, responses=UPDATE_RESPONSES)
    def patch(self, request: Request, world_id: str) -> Response:
        return self._update(request, partial=True)

    def _update(self, request: Request, *, partial: bool) -> Response:
        current = selectors.get_world(self.world_id)
        serializer = WorldUpdateSerializer(data=request.data, partial=partial, world=current)
        serializer.is_valid(raise_exception=True)
        outcome = world_services.update_world(
            actor=acting_user(request),
            world_id=self.world_id,
            changes=serializer.validated_data,
            expected_etags=if_match(request),
        )
        if outcome.pending is not None:
            # Nothing changed on the world, so no new ETag: the one the client holds stays valid.
            change = selectors.get_world_change(self.world_id, outcome.pending.id)
            return Response(
                world_change_json(change),
                status=status.HTTP_202_ACCEPTED,
                headers={"Location": f"/worlds/{self.world_id}/changes/{change.id}"},
            )
        return with_etag(Response(world_json(outcome.world)), outcome.world.etag)

    @extend_schema(responses={204: None, **ERRORS})
    def delete(self, request: Request, world_id: str) -> Response:
        world_services.delete_world(
            actor=acting_user(request), world_id=world_id, expected_etags=if_match(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class WorldDescribeView(WorldScopedView):
    @extend_schema(responses={200: DescribeOutSerializer, **ERRORS})
    def get(self, request: Request, world_id: str) -> Response:
        world = selectors.get_world(world_id)
        return Response({**world_json(world), **hooks.describe(world)})


class MemberListView(WorldScopedView):
    @extend_schema(responses={200: MemberOutSerializer(many=True), **ERRORS})
    def get(self, request: Request, world_id: str) -> Response:
        selectors.get_world(world_id)
        return Response(MemberOutSerializer(selectors.list_members(world_id), many=True).data)


class MemberDetailView(WorldScopedView):
    @extend_schema(request=MemberRoleSerializer, responses={200: MemberOutSerializer, **ERRORS})
    def put(self, request: Request, world_id: str, username: str) -> Response:
        serializer = MemberRoleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        role = member_services.set_member_role(
            actor=acting_user(request),
            world_id=world_id,
            username=username,
            role=Role.from_label(serializer.validated_data["role"]),
        )
        return Response(MemberOutSerializer({"user": username, "role": role.label}).data)

    @extend_schema(responses={204: None, **ERRORS})
    def delete(self, request: Request, world_id: str, username: str) -> Response:
        member_services.remove_member(
            actor=acting_user(request), world_id=world_id, username=username
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


def _audit_filters(request: Request, world_id: str | None) -> selectors.AuditFilters:
    params = request.query_params
    times = {}
    for name in ("since", "until"):
        raw = params.get(name)
        if raw:
            moment = parse_rfc3339(raw)
            if moment is None:
                raise InvalidInput(
                    f"{name} is not an RFC 3339 time.",
                    errors={name: [TIME_HINT]},
                )
            times[name] = moment
    return selectors.AuditFilters(
        world_id=world_id,
        event=params.get("event") or None,
        actor=params.get("actor") or None,
        since=times.get("since"),
        until=times.get("until"),
    )


def audit_response(request: Request, world_id: str | None) -> Any:
    rows = selectors.audit_rows(_audit_filters(request, world_id))
    fmt = request.query_params.get("format")
    if fmt is None or fmt == "json":
        return paginate(request, rows).response(audit_json)
    if fmt not in EXPORT_FORMATS:
        raise InvalidInput("Unknown export format.", errors={"format": ["One of csv, jsonl."]})
    return export_response(rows, fmt)


class WorldAuditView(WorldScopedView):
    @extend_schema(responses=AUDIT_RESPONSES, parameters=AUDIT_PARAMS)
    def get(self, request: Request, world_id: str) -> Any:
        return audit_response(request, world_id)


class AuditorView(APIView):
    permission_classes = [IsAuthenticated]

    def check_auditor(self, request: Request) -> None:
        world_permissions.require_auditor(request.user)


class AuditView(AuditorView):
    @extend_schema(
        responses=AUDIT_RESPONSES,
        parameters=[OpenApiParameter("world_id", str), *AUDIT_PARAMS],
    )
    def get(self, request: Request) -> Any:
        self.check_auditor(request)
        return audit_response(request, request.query_params.get("world_id"))


class AuditVerifyView(AuditorView):
    @extend_schema(
        responses={200: VerifyOutSerializer, **ERRORS},
        parameters=[OpenApiParameter("world_id", str)],
    )
    def get(self, request: Request) -> Response:
        self.check_auditor(request)
        return Response(verify_world_chain(request.query_params.get("world_id")).as_dict())
