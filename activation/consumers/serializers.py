"""Wire shapes of Gateway convergence: the acknowledgement (strict) and the consumers view."""

from __future__ import annotations

from rest_framework import serializers

from activation.consumers.etags import MAX_VERSION
from worldservice.api.fields import (
    StrictCharField,
    StrictIntegerField,
    StrictRegexField,
    StrictSerializer,
)
from worldservice.api.identifiers import RFC3339Field, run_id_field

# A consumer names itself (a Gateway instance, an SDK process): short, no spaces, no markup.
CONSUMER_REGEX = r"^[A-Za-z0-9][A-Za-z0-9_.:@/-]{0,63}$"
MAX_ETAG_LENGTH = 400


class AcknowledgementSerializer(StrictSerializer):
    """`POST /worlds/{id}/activation/ack`: unknown keys and wrong types are 400."""

    consumer = StrictRegexField(
        CONSUMER_REGEX,
        max_length=64,
        error_messages={
            "invalid": "A consumer name is 1-64 characters of A-Z a-z 0-9 _ . : @ / -, "
            "starting with a letter or digit."
        },
        help_text="Who processed it: a stable name per Gateway instance or SDK process.",
    )
    etag = StrictCharField(
        max_length=MAX_ETAG_LENGTH,
        help_text="The activation etag processed: an entry's `act:{world}:{strategy}:{side}:"
        "{version}` or the set's `act:{world}:set:{version}` (unquoted).",
    )
    run_id = run_id_field(
        required=False, allow_null=True, default=None, help_text="The apply run, if any."
    )
    sequence = StrictIntegerField(
        min_value=0,
        max_value=MAX_VERSION,
        required=False,
        allow_null=True,
        default=None,
        help_text="The apply stage's `sequence` from the event, if any.",
    )
    processed_at = RFC3339Field(help_text="When the consumer processed it (RFC 3339).")


class ConsumerSerializer(serializers.Serializer):
    consumer = serializers.CharField()
    etag = serializers.CharField(help_text="The last etag acknowledged.")
    version = serializers.IntegerField(help_text="Its activation version.")
    run_id = serializers.CharField(allow_null=True)
    sequence = serializers.IntegerField(allow_null=True)
    processed_at = serializers.CharField(help_text="As the consumer reported it.")
    acked_at = serializers.CharField(help_text="When the service recorded it.")
    skew_seconds = serializers.FloatField(
        allow_null=True, help_text="processed_at minus the event's time (null: no event found)."
    )
    lag_versions = serializers.IntegerField(help_text="Versions behind the current one.")
    lag_seconds = serializers.FloatField(
        help_text="How long the current version has been out unacknowledged (0 when acked)."
    )
    stale = serializers.BooleanField(help_text="Behind a version out for over 60 s.")


class ConvergenceSerializer(serializers.Serializer):
    world_id = serializers.CharField()
    version = serializers.IntegerField(help_text="The current (highest issued) version.")
    version_at = serializers.CharField(
        allow_null=True, help_text="When the current version's event was recorded."
    )
    converged = serializers.BooleanField(help_text="Every consumer has the current version.")
    consumers = ConsumerSerializer(many=True)
