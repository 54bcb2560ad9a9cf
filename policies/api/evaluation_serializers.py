"""The wire shape of an evaluation run (docs/api.md, "Evaluate")."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from policies.models import EvaluationRun, EvaluationStatus
from worldservice.api.fields import BlankAsNullCharField


class EvaluationRunOutSerializer(serializers.Serializer):
    """A pending or failed run as these fields; a completed run is its stored result (the
    evaluation's own keys besides these) with `status`, so the shape stays open."""

    evaluation_run_id = serializers.CharField(source="run_id")
    world_id = serializers.CharField()
    policy_version = serializers.IntegerField(allow_null=True)
    status = serializers.ChoiceField(choices=EvaluationStatus.values)
    error = BlankAsNullCharField(
        allow_null=True, required=False, help_text="Why a failed run failed; absent once completed."
    )

    def to_representation(self, instance: EvaluationRun) -> dict[str, Any]:
        if instance.status == EvaluationStatus.COMPLETED and instance.result is not None:
            return {**instance.result, "status": instance.status}
        body: dict[str, Any] = super().to_representation(instance)
        return body
