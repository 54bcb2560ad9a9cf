"""A one-line reading of a policy's gates and top-k, for lists in the admin."""

from __future__ import annotations

from .model import AllOf, AnyOf, Comparison, ExpressionScore, Gate, MetricRef, Policy, TopK

DEFAULT_RANK_METRIC = "sharpe"


def summarize_gates(policy: Policy) -> str:
    """E.g. `sharpe >= 0.6 and (win_rate >= 0.5 or profit_factor >= 1.3); top 8 by score`.

    `no gates` stands for a policy without gates. The top-k part names the metric strategies are
    ranked by when the score is a single metric, `score` for any other score, and, without a
    score, the metric of the first comparison (or `sharpe`), as the decision engine ranks.
    """
    selection = policy.selection
    parts = [_gate_text(selection.gates, nested=False) if selection.gates else "no gates"]
    if selection.topk is not None:
        parts.append(f"{_topk_text(selection.topk)} by {_rank_text(policy)}")
    return "; ".join(parts)


def _gate_text(gate: Gate, *, nested: bool) -> str:
    if isinstance(gate, Comparison):
        return str(gate)
    if len(gate.children) == 1:
        return _gate_text(gate.children[0], nested=nested)
    word = " and " if isinstance(gate, AllOf) else " or "
    text = word.join(_gate_text(child, nested=True) for child in gate.children)
    return f"({text})" if nested else text


def _topk_text(topk: TopK) -> str:
    sides = ", ".join(f"{side} {count}" for side, count in topk.by_side)
    if topk.total is None:
        return f"top {sides}"
    if sides:
        return f"top {topk.total} ({sides})"
    return f"top {topk.total}"


def _rank_text(policy: Policy) -> str:
    score = policy.selection.score
    if isinstance(score, ExpressionScore):
        return score.expr.name if isinstance(score.expr, MetricRef) else "score"
    if score is not None:
        return "score"
    first = _first_comparison(policy.selection.gates)
    return first.metric if first is not None else DEFAULT_RANK_METRIC


def _first_comparison(gate: Gate | None) -> Comparison | None:
    pending: list[Gate] = [gate] if gate is not None else []
    while pending:
        current = pending.pop()
        if isinstance(current, Comparison):
            return current
        if isinstance(current, AllOf | AnyOf):
            pending.extend(reversed(current.children))
    return None
