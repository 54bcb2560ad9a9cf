"""The record of one strategy while the evaluation stages run over it.

Each stage of `policies.engine.pipeline` fills in its part (values, status, gates, score, rank,
selection, hysteresis, weight) and appends its reason codes, in stage order. `to_result()` freezes
the record into the `StrategyResult` the caller sees.
"""

from __future__ import annotations

from policies.dsl.model import Side
from policies.engine.result import GateResult, HysteresisResult, Status, StrategyResult


class StrategyWork:
    """Mutable on purpose: one object per strategy, filled in place, keeps large runs cheap."""

    __slots__ = (
        "gates",
        "hysteresis",
        "rank",
        "reasons",
        "score",
        "selected",
        "side",
        "status",
        "strategy_id",
        "values",
        "was_active",
        "weight",
    )

    def __init__(self, strategy_id: str, side: Side, was_active: bool) -> None:
        self.strategy_id = strategy_id
        self.side: Side = side
        self.was_active = was_active
        self.values: list[float | None] = []  # the policy's metrics, in compiled slot order
        self.status: Status = "fail"
        self.score: float | None = None
        self.rank: int | None = None
        self.selected = False
        self.weight: float | None = None
        self.gates: tuple[GateResult, ...] = ()
        self.hysteresis: HysteresisResult | None = None
        self.reasons: list[str] = []

    def to_result(self) -> StrategyResult:
        """The frozen outcome; every evaluated strategy has been through the hysteresis stage."""
        if self.hysteresis is None:
            raise RuntimeError(f"strategy {self.strategy_id} has no hysteresis step")
        return StrategyResult(
            strategy_id=self.strategy_id,
            side=self.side,
            status=self.status,
            score=self.score,
            rank=self.rank,
            selected=self.selected,
            weight=self.weight,
            gates=self.gates,
            hysteresis=self.hysteresis,
            reasons=tuple(self.reasons),
        )
