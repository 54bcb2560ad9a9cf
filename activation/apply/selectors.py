"""Reads of apply runs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from activation.apply.models import FINISHED_PHASES, ApplyRun
from worldservice.clock import parse_rfc3339


def apply_in_flight(world_id: str) -> bool:
    """Whether the world has an unfinished apply (`ApplyRun.in_flight`)."""
    return ApplyRun.in_flight(world_id)


@dataclass(frozen=True, slots=True)
class StageMark:
    """One stage a run reached, and how long after the run was requested."""

    stage: str
    at: dt.datetime | None
    seconds_in: float | None


@dataclass(frozen=True, slots=True)
class ApplyTimeline:
    run_id: str
    actor: str
    phase: str
    ok: bool | None
    created_at: dt.datetime
    finished_at: dt.datetime | None
    error: str
    stages: list[StageMark]

    @property
    def finished(self) -> bool:
        return self.phase in FINISHED_PHASES


def _marks(stages: list[dict[str, str]]) -> list[StageMark]:
    moments = [parse_rfc3339(str(stage.get("at", ""))) for stage in stages]
    start = moments[0] if moments else None
    return [
        StageMark(
            str(stage.get("stage", "")),
            moment,
            (moment - start).total_seconds() if moment is not None and start is not None else None,
        )
        for stage, moment in zip(stages, moments, strict=True)
    ]


def recent_apply_runs(world_id: str, limit: int = 10) -> list[ApplyTimeline]:
    """The world's latest apply runs, newest first, each with the stages it went through."""
    runs = (
        ApplyRun.objects.filter(world_id=world_id)
        .only("run_id", "actor", "phase", "ok", "created_at", "finished_at", "error", "stages")
        .order_by("-id")[:limit]
    )
    return [
        ApplyTimeline(
            run.run_id,
            run.actor,
            run.phase,
            run.ok,
            run.created_at,
            run.finished_at,
            run.error,
            _marks(list(run.stages)),
        )
        for run in runs
    ]
