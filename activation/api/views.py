"""HTTP views for activation: the Gateway's hot read, the set and the override.

The entry GET is read thousands of times a second: every GET is answered without DRF's request
cycle (`worlds.hot_path`), in the steady state from the process's tracked copy of the store read
(or, when there is none, with the read riding in the prefetch's single round trip), and the
body is dumped straight to JSON.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import partial
from typing import Any

from django.http import HttpRequest, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request

from activation import selectors
from activation.api.serializers import (
    ActivationAtSerializer,
    ActivationEnvelopeSerializer,
    ActivationOverrideSerializer,
    ActivationSetSerializer,
)
from activation.entries import SIDES
from activation.services.overrides import override_activation
from activation.store import get_store
from activation.store.base import EntryRead
from activation.store.redis import RedisActivationStore
from worlds.hot_path import HotReadView
from worlds.hot_reads import QUEUED_RESULT, StoreRead, prefetched
from worlds.roles import Role
from worldservice.api.actors import acting_user
from worldservice.api.errors import InvalidInput, NotFound
from worldservice.api.etags import if_match
from worldservice.api.identifiers import STRATEGY_ID_REGEX
from worldservice.api.query import query_params
from worldservice.api.renderers import JSONOnlyMixin
from worldservice.api.responses import conditional_json, json_response
from worldservice.api.schema import ERROR_BODY, ERRORS
from worldservice.clock import TIME_HINT, parse_rfc3339

_STRATEGY_ID = re.compile(STRATEGY_ID_REGEX)

ACTIVATION_READ = PolymorphicProxySerializer(
    component_name="ActivationRead",
    serializers=[ActivationEnvelopeSerializer, ActivationSetSerializer, ActivationAtSerializer],
    resource_type_field_name=None,
)
READ_PARAMS = [
    OpenApiParameter(
        "strategy_id", str, description="With `side`: that entry's envelope (else the set)."
    ),
    OpenApiParameter("side", str, enum=list(SIDES), description="With `strategy_id`."),
    OpenApiParameter(
        "at",
        OpenApiTypes.DATETIME,
        description="The set as it stood then, with the policy version in force and the last "
        "change (not with strategy_id/side).",
    ),
]


def _first_read(prefetched_values: dict[str, Any]) -> EntryRead | None:
    """The store read the prefetch made for this request (decoded, maybe a held copy), if any."""
    first: EntryRead | None = prefetched_values.get(QUEUED_RESULT)
    return first


def _bad_query(message: str, **errors: str) -> InvalidInput:
    return InvalidInput(message, errors={name: [text] for name, text in errors.items()})


def _entry_query(params: Any) -> tuple[str, str] | None:
    """(strategy_id, side) of an entry read, None for a read of the set; 400 on bad input."""
    strategy_id, side, at = params.get("strategy_id"), params.get("side"), params.get("at")
    if strategy_id is None and side is None:
        return None
    if at is not None:
        raise _bad_query(
            "`at` reads the whole set; leave out strategy_id and side.",
            at="Not with strategy_id/side.",
        )
    if strategy_id is None or side is None:
        missing = "side" if side is None else "strategy_id"
        raise _bad_query(
            "Give both strategy_id and side (or neither, for the whole set).",
            **{missing: "Required with the other."},
        )
    if not _STRATEGY_ID.match(strategy_id):
        raise _bad_query(
            "Invalid strategy_id.",
            strategy_id="A strategy id is 1-128 characters without whitespace or '|'.",
        )
    if side not in SIDES:
        raise _bad_query("Invalid side.", side="One of long, short.")
    return strategy_id, side


def _well_formed_entry(params: Any) -> tuple[str, str] | None:
    """The entry a read asks for, when its query is exactly a valid strategy_id and side."""
    strategy_id, side = params.get("strategy_id"), params.get("side")
    if len(params) != 2 or side not in SIDES or not strategy_id:
        return None
    return (strategy_id, side) if _STRATEGY_ID.match(strategy_id) else None


class ActivationView(JSONOnlyMixin, HotReadView):
    """One entry, the set, or the set at a past time; every GET is answered by `answer`
    (through `worlds.hot_path.serve_read`); the DRF view serves PUT, OPTIONS and the schema."""

    write_role = Role.OPERATOR
    renderer_classes = [JSONRenderer]

    @classmethod
    def prefetch_plan(
        cls, request: HttpRequest, world_id: str
    ) -> tuple[Sequence[str], StoreRead | None]:
        """An entry read rides in the prefetch (and is held as a tracked copy)."""
        entry = _well_formed_entry(query_params(request))
        store = get_store()
        if entry is None or not isinstance(store, RedisActivationStore):
            return (), None
        strategy_id, side = entry
        read = StoreRead(
            copy_key=("activation", world_id, strategy_id, side),
            redis_keys=store.read_keys(world_id),
            queue=partial(store.queue_get, world_id=world_id, strategy_id=strategy_id, side=side),
            decode=RedisActivationStore.entry_read,
        )
        return (), read

    @classmethod
    def answer(cls, request: Any, world_id: str, values: dict[str, Any]) -> HttpResponse:
        params = query_params(request)
        entry = _entry_query(params)
        if entry is not None:
            return _entry_answer(request, world_id, entry, values)
        at = params.get("at")
        if at is not None:
            return _at(world_id, at)
        body, settled = selectors.read_set(world_id)
        if not settled:  # being rebuilt: inactive, and not to be cached
            return json_response(body)
        return conditional_json(request, body, f"act:{world_id}:set:{body['version']}")

    @extend_schema(
        parameters=READ_PARAMS,
        responses={200: ACTIVATION_READ, 304: None, **ERRORS},
        description="One entry (`strategy_id` and `side`; 404 when there is none: treat it as "
        "inactive), the whole set (no query), or the set at a past time (`at`).",
    )
    def get(self, request: Request, world_id: str) -> HttpResponse:
        """Never reached through the route (`serve_read` answers GET); the schema's entry."""
        return self.answer(request, world_id, prefetched(request) or {})

    @extend_schema(
        request=ActivationOverrideSerializer,
        responses={
            200: ActivationEnvelopeSerializer,
            **ERRORS,
            503: OpenApiResponse(ERROR_BODY, description="The set is being rebuilt; retry."),
        },
        description="Override one entry (operator). `If-Match` with the entry's etag → 412 on "
        "mismatch; 409 `apply_in_progress`, `live_not_allowed`, `world_deleted`, "
        "`world_suspended`.",
    )
    def put(self, request: Request, world_id: str) -> HttpResponse:
        serializer = ActivationOverrideSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        envelope = override_activation(
            actor=acting_user(request),
            world_id=world_id,
            expected_etags=if_match(request),
            **serializer.validated_data,
        )
        return json_response(envelope, etag=envelope["etag"])


def _entry_answer(
    request: Any, world_id: str, entry: tuple[str, str], values: dict[str, Any]
) -> HttpResponse:
    strategy_id, side = entry
    envelope = selectors.read_entry(world_id, strategy_id, side, first_read=_first_read(values))
    if envelope is None:
        raise NotFound(
            f"World {world_id!r} has no activation entry for {strategy_id}|{side} "
            "(treat it as inactive)."
        )
    # Never changed once built (`selectors.read_entry`): its JSON is encoded once.
    return conditional_json(request, envelope, envelope["etag"], held=True)


def _at(world_id: str, raw: str) -> HttpResponse:
    moment = parse_rfc3339(raw)
    if moment is None:
        raise _bad_query("at is not an RFC 3339 time.", at=TIME_HINT)
    return json_response(selectors.state_at(world_id, moment))
