"""The normalised, typed form of a world policy.

Every accepted document (the current language, the existing WorldService form and the presets)
is parsed into these immutable types. The decision engine and the admin read only this form, so
they never see the many ways a document can be spelled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

# Numbers are written the same way in canonical text and in every error message.
from fieldreaders import format_number as format_number

ComparisonOp = Literal[">=", "<=", ">", "<", "==", "!="]
OnMissingMetric = Literal["fail", "warn", "ignore"]
Side = Literal["long", "short"]
SIDES: tuple[Side, ...] = ("long", "short")


# --- gates -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Comparison:
    """`<metric> <op> <number>`, e.g. `sharpe >= 0.6`."""

    metric: str
    op: ComparisonOp
    value: float

    def __str__(self) -> str:
        return f"{self.metric} {self.op} {format_number(self.value)}"


@dataclass(frozen=True, slots=True)
class AllOf:
    """Passes when every child passes (`and`, or a bare list)."""

    children: tuple[Gate, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    """Passes when at least one child passes (`or`)."""

    children: tuple[Gate, ...]


Gate = Comparison | AllOf | AnyOf


# --- score expressions -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Number:
    value: float


@dataclass(frozen=True, slots=True)
class MetricRef:
    name: str


@dataclass(frozen=True, slots=True)
class Negate:
    operand: Expr


@dataclass(frozen=True, slots=True)
class BinaryOp:
    op: Literal["+", "-", "*", "/"]
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Call:
    function: Literal["abs", "min", "max", "log", "sqrt"]
    args: tuple[Expr, ...]


Expr = Number | MetricRef | Negate | BinaryOp | Call


@dataclass(frozen=True, slots=True)
class ExpressionScore:
    """A score written as an expression; `source` is its canonical text."""

    expr: Expr
    source: str


@dataclass(frozen=True, slots=True)
class WeightedScore:
    """`score: {weights: {metric: w}}`: the sum of metric × weight (sorted by metric name)."""

    weights: tuple[tuple[str, float], ...]


Score = ExpressionScore | WeightedScore


# --- sections ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DataCurrency:
    max_lag_seconds: int | None = None
    min_history_seconds: int | None = None


@dataclass(frozen=True, slots=True)
class Sample:
    min_days: float | None = None
    min_trades: float | None = None
    min_bars: float | None = None


@dataclass(frozen=True, slots=True)
class TopK:
    total: int | None = None
    by_side: tuple[tuple[Side, int], ...] = ()  # sorted by side


@dataclass(frozen=True, slots=True)
class CorrelationConstraint:
    max_pairwise: float


@dataclass(frozen=True, slots=True)
class ExposureConstraint:
    gross_budget: tuple[tuple[Side, float], ...] = ()  # sorted by side; missing side → default
    max_weight: float | None = None


@dataclass(frozen=True, slots=True)
class Constraints:
    correlation: CorrelationConstraint | None = None
    exposure: ExposureConstraint | None = None


@dataclass(frozen=True, slots=True)
class Bands:
    metric: str
    enter: float
    exit: float


@dataclass(frozen=True, slots=True)
class Hysteresis:
    promote_after: int = 1
    demote_after: int = 1
    min_dwell_seconds: int = 0
    bands: Bands | None = None


@dataclass(frozen=True, slots=True)
class Selection:
    gates: Gate | None = None
    score: Score | None = None
    topk: TopK | None = None
    constraints: Constraints = field(default_factory=Constraints)
    hysteresis: Hysteresis | None = None  # None: promote and demote at once


@dataclass(frozen=True, slots=True)
class Validation:
    on_missing_metric: OnMissingMetric = "fail"


@dataclass(frozen=True, slots=True)
class Policy:
    """One normalised world policy document."""

    data_currency: DataCurrency = field(default_factory=DataCurrency)
    sample: Sample = field(default_factory=Sample)
    selection: Selection = field(default_factory=Selection)
    validation: Validation = field(default_factory=Validation)
