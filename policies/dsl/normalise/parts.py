"""The parts of a policy as the places of one document give them.

Gates from every place (a preset, `thresholds`, `selection.thresholds`, `selection.gates`) all
apply, joined by `and` in that order. Any other part may be given in one place only: a second
place is an error there, naming the first (docs/policy-language.md, "The older form of policies").
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ErrorCollector
from ..model import (
    AllOf,
    Bands,
    Constraints,
    CorrelationConstraint,
    ExposureConstraint,
    Gate,
    Hysteresis,
    Score,
    Selection,
    TopK,
)

PRESET_PATH = "preset"


@dataclass(frozen=True, slots=True)
class Counts:
    """The counting half of hysteresis (its bands are a part of their own)."""

    promote_after: int = 1
    demote_after: int = 1
    min_dwell_seconds: int = 0


class Parts:
    """Collects each part with the path of the place that set it."""

    def __init__(self, errors: ErrorCollector) -> None:
        self.errors = errors
        self.claimed: dict[str, str] = {}  # part of the policy -> path of the place that set it
        self.preset_name: str | None = None
        self.gates: list[Gate] = []
        self.score: Score | None = None
        self.topk: TopK | None = None
        self.correlation: CorrelationConstraint | None = None
        self.exposure: ExposureConstraint | None = None
        self.counts: Counts | None = None
        self.bands: Bands | None = None

    def add_gate(self, gate: Gate | None) -> None:
        if gate is not None:
            self.gates.append(gate)

    def set_score(self, score: Score | None, path: str) -> None:
        if score is not None and self.claim("score", path):
            self.score = score

    def set_topk(self, topk: TopK | None, path: str) -> None:
        if topk is not None and self.claim("top-k", path):
            self.topk = topk

    def set_correlation(self, limit: CorrelationConstraint | None, path: str) -> None:
        if limit is not None and self.claim("correlation limit", path):
            self.correlation = limit

    def set_exposure(self, exposure: ExposureConstraint | None, path: str) -> None:
        if exposure is not None and self.claim("exposure", path):
            self.exposure = exposure

    def set_counts(self, counts: Counts, path: str) -> None:
        if self.claim("hysteresis counts", path):
            self.counts = counts

    def set_bands(self, bands: Bands | None, path: str) -> None:
        if bands is not None and self.claim("hysteresis bands", path):
            self.bands = bands

    def claim(self, part: str, path: str) -> bool:
        """Record that `path` sets `part`; report an error if another place already did."""
        earlier = self.claimed.get(part)
        if earlier is None:
            self.claimed[part] = path
            return True
        if earlier == PRESET_PATH:
            self.errors.add(
                path,
                f"the preset '{self.preset_name}' already sets the {part}; change it with "
                "preset_overrides instead",
            )
        else:
            verb = "are" if part.endswith("s") else "is"
            self.errors.add(
                path, f"the {part} {verb} already set at '{earlier}'; give it only once"
            )
        return False

    def selection(self) -> Selection:
        return Selection(
            gates=_join_gates(self.gates),
            score=self.score,
            topk=self.topk,
            constraints=Constraints(correlation=self.correlation, exposure=self.exposure),
            hysteresis=self.hysteresis(),
        )

    def hysteresis(self) -> Hysteresis | None:
        if self.counts is None and self.bands is None:
            return None
        counts = self.counts or Counts()
        return Hysteresis(
            promote_after=counts.promote_after,
            demote_after=counts.demote_after,
            min_dwell_seconds=counts.min_dwell_seconds,
            bands=self.bands,
        )


def _join_gates(sources: list[Gate]) -> Gate | None:
    """One gate from the gates of several places: joined by `and`, without nesting `and`s."""
    if not sources:
        return None
    if len(sources) == 1:
        return sources[0]
    children: list[Gate] = []
    for gate in sources:
        children.extend(gate.children if isinstance(gate, AllOf) else (gate,))
    return AllOf(tuple(children))
