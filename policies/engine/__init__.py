"""The world policy evaluation engine: a pure library (no Django, no I/O).

`evaluate(policy, inputs, state, advance_state=...)` runs one evaluation
(docs/policy-language.md#11-how-one-evaluation-runs) of a normalised `Policy` over an
`EvaluationInput` and the per-strategy `HysteresisState` map, and returns an `EvaluationResult`
whose `to_json()` is the body of docs/contract.md#evaluate (`active`, `plan`, `strategies`,
`weights`) and whose `state` is the hysteresis state to persist. The design choices
are written down in `policies.engine.pipeline`.
"""

from policies.engine.alpha_performance import (
    ALPHA_KEYS,
    alpha_metrics_from_returns,
    alpha_metrics_from_series,
)
from policies.engine.compiler import compile_policy
from policies.engine.inputs import (
    CorrelationPair,
    EvaluationInput,
    Series,
    StrategyInput,
    build_input,
)
from policies.engine.metrics import as_metric_value
from policies.engine.pipeline import evaluate
from policies.engine.result import (
    EvaluationResult,
    GateResult,
    HysteresisResult,
    Plan,
    StrategyResult,
)
from policies.engine.state import HysteresisState

__all__ = [
    "ALPHA_KEYS",
    "CorrelationPair",
    "EvaluationInput",
    "EvaluationResult",
    "GateResult",
    "HysteresisResult",
    "HysteresisState",
    "Plan",
    "Series",
    "StrategyInput",
    "StrategyResult",
    "alpha_metrics_from_returns",
    "alpha_metrics_from_series",
    "as_metric_value",
    "build_input",
    "compile_policy",
    "evaluate",
]
