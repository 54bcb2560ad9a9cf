"""Pure multi-world rebalancing planner (no Django, no I/O).

    request = parse_rebalance_request(body, compat_v2=..., alpha_metrics_required=...)
    worlds_named(request)            # role check: every world the request mentions
    plan = plan_rebalance(request)
    plan_to_dict(plan)               # the /rebalancing/plan response body

See docs/rebalancing.md.
"""

from .errors import RebalanceValidationError
from .parse import InputBounds, negotiate_schema_version, parse_rebalance_request
from .plan import (
    plan_rebalance,
    planned_worlds,
    sanitize_alpha_metrics,
    worlds_named,
    zero_alpha_metrics,
)
from .scaling import round_to_lot, strategy_scale, world_scale
from .serialize import alpha_metrics_to_dict, delta_to_dict, plan_to_dict, world_plan_to_dict
from .types import (
    ALPHA_METRIC_KEYS,
    AlphaMetrics,
    Mode,
    OverlayConfig,
    Position,
    RebalanceIntent,
    RebalancePlan,
    RebalanceRequest,
    SchemaVersion,
    SymbolDelta,
    WorldPlan,
)

__all__ = [
    "InputBounds",
    "ALPHA_METRIC_KEYS",
    "AlphaMetrics",
    "Mode",
    "OverlayConfig",
    "Position",
    "RebalanceIntent",
    "RebalancePlan",
    "RebalanceRequest",
    "RebalanceValidationError",
    "SchemaVersion",
    "SymbolDelta",
    "WorldPlan",
    "alpha_metrics_to_dict",
    "delta_to_dict",
    "negotiate_schema_version",
    "parse_rebalance_request",
    "plan_rebalance",
    "plan_to_dict",
    "planned_worlds",
    "round_to_lot",
    "sanitize_alpha_metrics",
    "strategy_scale",
    "world_plan_to_dict",
    "world_scale",
    "worlds_named",
    "zero_alpha_metrics",
]
