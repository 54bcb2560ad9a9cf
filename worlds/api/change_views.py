"""`/worlds/{id}/changes...`: governed world changes, listed, read, reviewed and withdrawn.

Views parse and render; the rules live in `worlds.services.changes` (see docs/api.md,
"Governed world changes").
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from worlds import selectors
from worlds.api.serializers import ReviewSerializer, WorldChangeOutSerializer, world_change_json
from worlds.models import ReviewDecision, WorldChangeStatus
from worlds.permissions import ReviewableWorldView, WorldScopedView, require_member_or_approver
from worlds.roles import Role
from worlds.services import changes as change_services
from worldservice.api.actors import acting_user
from worldservice.api.errors import InvalidInput, NotFound
from worldservice.api.pagination import PAGE_PARAMS, paginate
from worldservice.api.schema import ERRORS, page_of

STATUS_PARAM = OpenApiParameter(
    "status", str, enum=WorldChangeStatus.values, description="Only changes in this status."
)


def change_number(raw: str) -> int:
    """The change id of the path; anything but a positive whole number is an unknown change."""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18 or int(raw) < 1:
        raise NotFound(f"No world change {raw!r}.")
    return int(raw)


def _changed(world_id: str, change_id: int) -> Response:
    return Response(world_change_json(selectors.get_world_change(world_id, change_id)))


class WorldChangeListView(ReviewableWorldView):
    """A world's governed changes, newest first (readers, and approvers to review them)."""

    @extend_schema(
        responses={200: page_of(WorldChangeOutSerializer, "WorldChangePage"), **ERRORS},
        parameters=[STATUS_PARAM, *PAGE_PARAMS],
        operation_id="worlds_changes_list",
    )
    def get(self, request: Request, world_id: str) -> Response:
        status = request.query_params.get("status") or None
        if status is not None and status not in WorldChangeStatus.values:
            raise InvalidInput(
                "Unknown status.", errors={"status": [f"One of {WorldChangeStatus.values}."]}
            )
        changes = selectors.world_changes(world_id, status=status)
        return paginate(request, changes, newest_first=True).response(world_change_json)


class WorldChangeDetailView(ReviewableWorldView):
    @extend_schema(
        responses={200: WorldChangeOutSerializer, **ERRORS}, operation_id="worlds_changes_read"
    )
    def get(self, request: Request, world_id: str, change_id: str) -> Response:
        return _changed(world_id, change_number(change_id))


class WorldChangeReviewView(WorldScopedView):
    """Approvers review; the service refuses the requester and callers without the permission."""

    decision: ReviewDecision

    def required_role(self, request: Request) -> Role | None:
        return None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        # For every method (OPTIONS too): neither a role nor the approver right is 404.
        require_member_or_approver(request, self.world_id)

    def post(self, request: Request, world_id: str, change_id: str) -> Response:
        number = change_number(change_id)
        serializer = ReviewSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        change_services.review_world_change(
            actor=acting_user(request),
            world_id=world_id,
            change_id=number,
            decision=self.decision,
            comment=serializer.validated_data["comment"],
        )
        return _changed(world_id, number)


class WorldChangeApproveView(WorldChangeReviewView):
    decision = ReviewDecision.APPROVE

    @extend_schema(
        request=ReviewSerializer,
        responses={200: WorldChangeOutSerializer, **ERRORS},
        operation_id="worlds_changes_approve",
        description="Approve a pending change; the approval that reaches `approvals_required` "
        "applies it (status APPLIED).",
    )
    def post(self, request: Request, world_id: str, change_id: str) -> Response:
        return super().post(request, world_id, change_id)


class WorldChangeRejectView(WorldChangeReviewView):
    decision = ReviewDecision.REJECT

    @extend_schema(
        request=ReviewSerializer,
        responses={200: WorldChangeOutSerializer, **ERRORS},
        operation_id="worlds_changes_reject",
        description="Reject a pending change: it ends (status REJECTED).",
    )
    def post(self, request: Request, world_id: str, change_id: str) -> Response:
        return super().post(request, world_id, change_id)


class WorldChangeWithdrawView(WorldScopedView):
    """The requester ends their own pending change."""

    write_role = Role.READER

    @extend_schema(
        request=None,
        responses={200: WorldChangeOutSerializer, **ERRORS},
        operation_id="worlds_changes_withdraw",
    )
    def post(self, request: Request, world_id: str, change_id: str) -> Response:
        number = change_number(change_id)
        change_services.withdraw_world_change(
            actor=acting_user(request), world_id=world_id, change_id=number
        )
        return _changed(world_id, number)
