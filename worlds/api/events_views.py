"""`GET /worlds/{id}/events?after=<seq>`: replay a world's recorded events as CloudEvents."""

from __future__ import annotations

import re

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from worlds import selectors
from worlds.events import EVENT_SOURCE, EVENT_TYPES, as_cloudevent
from worlds.models import WorldEvent
from worlds.permissions import WorldScopedView
from worldservice.api.errors import InvalidInput
from worldservice.api.pagination import PAGE_PARAMS, paginate
from worldservice.api.schema import ERRORS

MAX_SEQ = 2**63 - 1
SEQ_PATTERN = re.compile(r"[0-9]{1,19}")


def _cloudevent_fields() -> dict[str, serializers.Field]:
    # `type` is a CharField, not a ChoiceField: a generic `TypeEnum` component would collide
    # with other enums named after a `type` field.
    return {
        "specversion": serializers.CharField(help_text="Always `1.0`."),
        "id": serializers.CharField(help_text="The idempotency key, `<world_id>:<seq>`."),
        "source": serializers.CharField(help_text=f"Always `{EVENT_SOURCE}`."),
        "type": serializers.CharField(help_text="One of " + ", ".join(sorted(EVENT_TYPES)) + "."),
        "subject": serializers.CharField(help_text="The world id."),
        "time": serializers.DateTimeField(help_text="When the change was recorded (UTC)."),
        "datacontenttype": serializers.CharField(help_text="Always `application/json`."),
        "correlation_id": serializers.CharField(allow_blank=True),
        "data": serializers.DictField(
            help_text="The type's fields, plus `world_id`, `seq` and `idempotency_key`."
        ),
    }


# Inline: a plain Serializer cannot declare fields named `source` or `data`.
EVENT_PAGE = inline_serializer(
    "WorldEventPage",
    fields={
        "results": inline_serializer("CloudEvent", fields=_cloudevent_fields(), many=True),
        "next": serializers.URLField(allow_null=True),
    },
)
AFTER_PARAM = OpenApiParameter(
    "after",
    int,
    description="Only events with a larger `seq` (default 0: from the first event).",
)


def parse_after(raw: str | None) -> int:
    """The `after` query parameter: a non-negative whole number, 0 when absent."""
    if raw is None or raw == "":
        return 0
    if not SEQ_PATTERN.fullmatch(raw) or int(raw) > MAX_SEQ:
        raise InvalidInput(
            "after must be a non-negative whole number (an event seq).",
            errors={"after": ["Expected an integer ≥ 0."]},
        )
    return int(raw)


class WorldEventsView(WorldScopedView):
    """A world's recorded events in `seq` order, as CloudEvents, for consumers that fell behind.

    Consumers resume from the last `seq` they processed (`?after=`) and follow `next`.
    """

    @extend_schema(
        responses={200: EVENT_PAGE, **ERRORS},
        parameters=[AFTER_PARAM, *PAGE_PARAMS],
        operation_id="worlds_events_list",
    )
    def get(self, request: Request, world_id: str) -> Response:
        after = parse_after(request.query_params.get("after"))
        selectors.get_world(world_id)
        events = WorldEvent.objects.filter(world_id=world_id, seq__gt=after)
        return paginate(request, events, key="seq").response(as_cloudevent)
