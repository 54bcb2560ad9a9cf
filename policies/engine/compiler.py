"""Turn a normalised `Policy` into closures, once, so the per-strategy loop does no tree walking.

Every metric the policy reads gets a *slot*; a strategy's metrics are resolved into a list of
`float | None` in slot order (None: missing) and the compiled gates and score index that list.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from policies.dsl.model import (
    AllOf,
    AnyOf,
    BinaryOp,
    Call,
    Comparison,
    ComparisonOp,
    Expr,
    ExpressionScore,
    Gate,
    MetricRef,
    Negate,
    Number,
    Policy,
    Score,
    WeightedScore,
)

Values = Sequence[float | None]
ScoreFn = Callable[[Values], float | None]
TreeFn = Callable[[Sequence[bool]], bool]

HISTORY_METRIC = "history_days"
SAMPLE_DAYS_METRIC = "sample_days"
SAMPLE_TRADES_METRIC = "trades"
SAMPLE_TRADES_ALIAS = "n_trades_total"
SAMPLE_BARS_METRIC = "bars"
DEFAULT_SCORE_METRIC = "sharpe"
SECONDS_PER_DAY = 86_400

_OPS: dict[ComparisonOp, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}


@dataclass(frozen=True, slots=True)
class CompiledComparison:
    """One leaf of the gate tree, in document (depth-first) order."""

    slot: int
    rule: str
    op: Callable[[float, float], bool]
    threshold: float


@dataclass(frozen=True, slots=True)
class CompiledPolicy:
    """The closures and slot indices of one policy (see the module docstring)."""

    names: tuple[str, ...]
    comparisons: tuple[CompiledComparison, ...]
    gate_tree: TreeFn | None
    score: ScoreFn
    history_slot: int | None
    min_history_days: float | None
    sample_days_slot: int | None
    sample_trades_slots: tuple[int, int] | None
    sample_bars_slot: int | None
    band_slot: int | None


class _Slots:
    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def __call__(self, name: str) -> int:
        slot = self.index.get(name)
        if slot is None:
            slot = self.index[name] = len(self.index)
        return slot


@lru_cache(maxsize=128)
def compile_policy(policy: Policy) -> CompiledPolicy:
    """Compile `policy` (cached: a Policy is immutable and hashable)."""
    slots = _Slots()

    comparisons: list[CompiledComparison] = []
    gates = policy.selection.gates
    gate_tree = _compile_gate(gates, slots, comparisons) if gates is not None else None

    score = _compile_score(policy.selection.score, comparisons, slots)

    history_slot: int | None = None
    min_history_days: float | None = None
    if policy.data_currency.min_history_seconds is not None:
        history_slot = slots(HISTORY_METRIC)
        min_history_days = policy.data_currency.min_history_seconds / SECONDS_PER_DAY

    sample = policy.sample
    days_slot = slots(SAMPLE_DAYS_METRIC) if sample.min_days is not None else None
    trades_slots = (
        (slots(SAMPLE_TRADES_METRIC), slots(SAMPLE_TRADES_ALIAS))
        if sample.min_trades is not None
        else None
    )
    bars_slot = slots(SAMPLE_BARS_METRIC) if sample.min_bars is not None else None

    hysteresis = policy.selection.hysteresis
    band_slot = (
        slots(hysteresis.bands.metric)
        if hysteresis is not None and hysteresis.bands is not None
        else None
    )

    return CompiledPolicy(
        names=tuple(slots.index),
        comparisons=tuple(comparisons),
        gate_tree=gate_tree,
        score=score,
        history_slot=history_slot,
        min_history_days=min_history_days,
        sample_days_slot=days_slot,
        sample_trades_slots=trades_slots,
        sample_bars_slot=bars_slot,
        band_slot=band_slot,
    )


# --- gates -------------------------------------------------------------------------------------


def _compile_gate(gate: Gate, slots: _Slots, leaves: list[CompiledComparison]) -> TreeFn:
    """A function of the leaf outcomes (in `leaves` order) that combines them as the tree says."""
    if isinstance(gate, Comparison):
        index = len(leaves)
        leaves.append(
            CompiledComparison(
                slot=slots(gate.metric),
                rule=str(gate),
                op=_OPS[gate.op],
                threshold=float(gate.value),
            )
        )
        return operator.itemgetter(index)
    children = tuple(_compile_gate(child, slots, leaves) for child in gate.children)
    if isinstance(gate, AllOf):
        return lambda outcomes: all(child(outcomes) for child in children)
    if isinstance(gate, AnyOf):
        return lambda outcomes: any(child(outcomes) for child in children)
    raise TypeError(f"unknown gate node {gate!r}")


# --- score -------------------------------------------------------------------------------------


def _compile_score(score: Score | None, leaves: list[CompiledComparison], slots: _Slots) -> ScoreFn:
    if isinstance(score, ExpressionScore):
        return _compile_expr(score.expr, slots)
    if isinstance(score, WeightedScore):
        terms = tuple((slots(name), float(weight)) for name, weight in score.weights)
        return lambda values: _weighted_sum(values, terms)
    # No score: the first gate comparison's metric ranks, else sharpe.
    slot = leaves[0].slot if leaves else slots(DEFAULT_SCORE_METRIC)
    return operator.itemgetter(slot)


def _weighted_sum(values: Values, terms: tuple[tuple[int, float], ...]) -> float | None:
    total = 0.0
    for slot, weight in terms:
        value = values[slot]
        if value is None:
            return None
        total += value * weight
    return _finite(total)


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _compile_expr(expr: Expr, slots: _Slots) -> ScoreFn:
    """Each node yields a finite float or None (missing, domain error, overflow); None spreads."""
    if isinstance(expr, Number):
        constant = _finite(float(expr.value))
        return lambda _values: constant
    if isinstance(expr, MetricRef):
        return operator.itemgetter(slots(expr.name))
    if isinstance(expr, Negate):
        return _negate(_compile_expr(expr.operand, slots))
    if isinstance(expr, BinaryOp):
        return _binary(expr.op, _compile_expr(expr.left, slots), _compile_expr(expr.right, slots))
    if isinstance(expr, Call):
        return _call(expr.function, tuple(_compile_expr(arg, slots) for arg in expr.args))
    raise TypeError(f"unknown expression node {expr!r}")


def _negate(operand: ScoreFn) -> ScoreFn:
    def negate(values: Values) -> float | None:
        x = operand(values)
        return None if x is None else -x

    return negate


def _binary(op: str, left: ScoreFn, right: ScoreFn) -> ScoreFn:
    if op == "+":

        def add(values: Values) -> float | None:
            a, b = left(values), right(values)
            return None if a is None or b is None else _finite(a + b)

        return add
    if op == "-":

        def sub(values: Values) -> float | None:
            a, b = left(values), right(values)
            return None if a is None or b is None else _finite(a - b)

        return sub
    if op == "*":

        def mul(values: Values) -> float | None:
            a, b = left(values), right(values)
            return None if a is None or b is None else _finite(a * b)

        return mul
    if op == "/":

        def div(values: Values) -> float | None:
            a, b = left(values), right(values)
            if a is None or b is None or b == 0.0:
                return None
            return _finite(a / b)

        return div
    raise ValueError(f"unknown operator {op!r}")


def _call(function: str, args: tuple[ScoreFn, ...]) -> ScoreFn:
    if function in ("abs", "log", "sqrt"):
        if len(args) != 1:
            raise ValueError(f"{function}() takes one argument, not {len(args)}")
        return _one_argument(function, args[0])
    if function in ("min", "max"):
        if not args:
            raise ValueError(f"{function}() needs at least one argument")
        return _extreme(min if function == "min" else max, args)
    raise ValueError(f"unknown function {function!r}")


def _one_argument(function: str, arg: ScoreFn) -> ScoreFn:
    """`abs`, `log` or `sqrt`; outside its domain (`log` of x ≤ 0, `sqrt` of x < 0) no value."""
    if function == "abs":
        return lambda values: None if (x := arg(values)) is None else abs(x)
    if function == "log":
        return lambda values: None if (x := arg(values)) is None or x <= 0.0 else math.log(x)
    return lambda values: None if (x := arg(values)) is None or x < 0.0 else math.sqrt(x)


def _extreme(pick: Callable[[Iterable[float]], float], args: tuple[ScoreFn, ...]) -> ScoreFn:
    """`min` or `max` of the arguments; one missing argument leaves no value."""

    def extreme(values: Values) -> float | None:
        xs = [arg(values) for arg in args]
        if any(x is None for x in xs):
            return None
        return pick(x for x in xs if x is not None)

    return extreme
