"""`GET /worlds/{id}/{topic}/state_hash`: one route for every topic an app registered.

The topics and their readers live in `worldservice.state_hashes`; this view only checks the
caller's role on the world and answers the topic's hash.
"""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request

from worlds.api.serializers import StateHashOutSerializer
from worlds.permissions import WorldScopedView
from worldservice.api.responses import json_response
from worldservice.api.schema import ERRORS
from worldservice.state_hashes import read_topic_state_hash, state_hash_topics


class StateHashView(WorldScopedView):
    renderer_classes = [JSONRenderer]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "topic",
                str,
                OpenApiParameter.PATH,
                # The apps register their topics when ready, before URLs are loaded.
                enum=list(state_hash_topics()),
                description="`activation`: the whole activation set (its hash and version). "
                "`policy`: the "
                "default policy version (checksum and number; null and 0 when there is none). "
                "Any other topic is 404.",
            )
        ],
        responses={200: StateHashOutSerializer, **ERRORS},
        operation_id="worlds_state_hash_retrieve",
    )
    def get(self, request: Request, world_id: str, topic: str) -> HttpResponse:
        return json_response(read_topic_state_hash(world_id, topic))
