"""An audit row's JSON form (`audit_json`, also `GET /audit`'s), and exporting rows as CSV or
JSON Lines, streamed: the one implementation behind `GET /audit?format=csv|jsonl` and the admin's
**Export CSV** / **Export JSONL** buttons.

Rows leave in the order of the queryset given (callers pass them oldest first, the chain's order)
and are read in chunks, so an export of any size holds one chunk in memory at a time.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from rest_framework import serializers

from worlds.models import WorldAuditLog
from worldservice.api.fields import BlankAsNullCharField, ClosedShape, WireTimeField

EXPORT_FORMATS = ("csv", "jsonl")
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}
CHUNK_ROWS = 500


class AuditRowSerializer(ClosedShape, serializers.Serializer):
    id = serializers.IntegerField()
    world_id = BlankAsNullCharField(allow_null=True, help_text="Null for rows of no world.")
    actor = serializers.CharField()
    event = serializers.CharField()
    request = serializers.JSONField()
    result = serializers.JSONField()
    created_at = WireTimeField()
    correlation_id = serializers.CharField()
    prev_hash = BlankAsNullCharField(allow_null=True, help_text="Null for a chain's first row.")
    hash = serializers.CharField()


# The CSV columns are the JSON row's keys, in the serializer's order.
AUDIT_COLUMNS = tuple(AuditRowSerializer().fields)


def audit_json(row: WorldAuditLog) -> dict[str, Any]:
    return dict(AuditRowSerializer(row).data)


def _csv_lines(rows: QuerySet[WorldAuditLog]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(AUDIT_COLUMNS)
    for row in rows.iterator(chunk_size=CHUNK_ROWS):
        body = audit_json(row)
        writer.writerow(
            [
                json.dumps(body[column]) if isinstance(body[column], dict) else body[column]
                for column in AUDIT_COLUMNS
            ]
        )
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def _jsonl_lines(rows: QuerySet[WorldAuditLog]) -> Iterator[str]:
    for row in rows.iterator(chunk_size=CHUNK_ROWS):
        yield json.dumps(audit_json(row), ensure_ascii=False) + "\n"


def export_lines(rows: QuerySet[WorldAuditLog], fmt: str) -> Iterator[str]:
    """The export of `rows` in `fmt` (one of EXPORT_FORMATS), line by line."""
    if fmt == "csv":
        return _csv_lines(rows)
    if fmt == "jsonl":
        return _jsonl_lines(rows)
    raise ValueError(f"unknown audit export format {fmt!r}")


def export_response(rows: QuerySet[WorldAuditLog], fmt: str) -> StreamingHttpResponse:
    """A streamed download (`audit.csv` / `audit.jsonl`) of `rows` in `fmt`."""
    response = StreamingHttpResponse(export_lines(rows, fmt), content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="audit.{fmt}"'
    return response
