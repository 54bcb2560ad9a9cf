"""The world policy language: load, validate, normalise, serialise and summarise policies.

A pure library (no Django). See docs/policy-language.md for the language as its authors see it and
`model` for the normalised form the decision engine reads.

    policy = parse_policy_text(text)          # or parse_policy(dict)
    canonical_text = dump_policy_yaml(policy)
    summarize_gates(policy)                   # 'sharpe >= 0.6 and ...; top 8 by score'
"""

from .durations import DurationError, format_duration, parse_duration
from .errors import ROOT_PATH, YAML_PATH, PolicyValidationError
from .expressions import (
    ExpressionError,
    expression_metrics,
    expression_score,
    is_metric_name,
    parse_comparison,
    parse_expression,
    parse_score_expression,
    render_expression,
)
from .loader import load_document
from .model import (
    SIDES,
    AllOf,
    AnyOf,
    Bands,
    BinaryOp,
    Call,
    Comparison,
    ComparisonOp,
    Constraints,
    CorrelationConstraint,
    DataCurrency,
    ExposureConstraint,
    Expr,
    ExpressionScore,
    Gate,
    Hysteresis,
    MetricRef,
    Negate,
    Number,
    OnMissingMetric,
    Policy,
    Sample,
    Score,
    Selection,
    Side,
    TopK,
    Validation,
    WeightedScore,
    format_number,
)
from .normalise import parse_policy, parse_policy_text
from .presets import OVERRIDE_KEYS, PRESETS, Preset, Threshold
from .serialise import dump_policy_yaml, gate_to_data, policy_to_dict, score_to_data
from .summary import summarize_gates

__all__ = [
    "OVERRIDE_KEYS",
    "PRESETS",
    "ROOT_PATH",
    "SIDES",
    "YAML_PATH",
    "AllOf",
    "AnyOf",
    "Bands",
    "BinaryOp",
    "Call",
    "Comparison",
    "ComparisonOp",
    "Constraints",
    "CorrelationConstraint",
    "DataCurrency",
    "DurationError",
    "ExposureConstraint",
    "Expr",
    "ExpressionError",
    "ExpressionScore",
    "Gate",
    "Hysteresis",
    "MetricRef",
    "Negate",
    "Number",
    "OnMissingMetric",
    "Policy",
    "PolicyValidationError",
    "Preset",
    "Sample",
    "Score",
    "Selection",
    "Side",
    "Threshold",
    "TopK",
    "Validation",
    "WeightedScore",
    "dump_policy_yaml",
    "expression_metrics",
    "expression_score",
    "format_duration",
    "format_number",
    "gate_to_data",
    "is_metric_name",
    "load_document",
    "parse_comparison",
    "parse_duration",
    "parse_expression",
    "parse_policy",
    "parse_policy_text",
    "parse_score_expression",
    "policy_to_dict",
    "render_expression",
    "score_to_data",
    "summarize_gates",
]
