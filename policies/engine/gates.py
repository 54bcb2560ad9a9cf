"""Step 3: the gates.

Every comparison is evaluated and reported, in document order, even where `and`/`or` would
short-circuit; the compiled tree then combines those outcomes (an empty `and` passes, an empty
`or` fails; no gates at all: pass). A missing metric follows `validation.on_missing_metric`:
`fail` fails the comparison and reports it, `warn` passes it and reports it, `ignore` passes it
silently. The gates decide `status`: `pass` or `fail`.
"""

from __future__ import annotations

from collections.abc import Sequence

from policies.dsl.model import OnMissingMetric
from policies.engine.compiler import CompiledPolicy
from policies.engine.result import GATES_FAIL, GATES_PASS, METRIC_MISSING, GateResult
from policies.engine.work import StrategyWork


def apply_gates(
    works: Sequence[StrategyWork], compiled: CompiledPolicy, on_missing: OnMissingMetric
) -> None:
    """Step 3 for each (sufficient) strategy: its gate results, its status and their reasons."""
    tree = compiled.gate_tree
    for work in works:
        outcomes, work.gates, missing_reported = _compare(work.values, compiled, on_missing)
        passed = tree(outcomes) if tree is not None else True
        work.status = "pass" if passed else "fail"
        work.reasons.append(GATES_PASS if passed else GATES_FAIL)
        if missing_reported:
            work.reasons.append(METRIC_MISSING)


def _compare(
    values: Sequence[float | None], compiled: CompiledPolicy, on_missing: OnMissingMetric
) -> tuple[list[bool], tuple[GateResult, ...], bool]:
    """Each comparison's outcome, its reported result, and whether a missing metric is reported."""
    outcomes: list[bool] = []
    gates: list[GateResult] = []
    missing_reported = False
    for comparison in compiled.comparisons:
        value = values[comparison.slot]
        if value is None:
            passed = on_missing != "fail"
            missing = on_missing != "ignore"
            missing_reported = missing_reported or missing
        else:
            passed = comparison.op(value, comparison.threshold)
            missing = False
        outcomes.append(passed)
        gates.append(GateResult(rule=comparison.rule, value=value, passed=passed, missing=missing))
    return outcomes, tuple(gates), missing_reported
