"""Models of the policies app: versions and reviews, decide inputs, evaluations."""

from policies.models.decide import DecisionMemory, HistoryEntry, StrategyBinding, WorldDecisions
from policies.models.evaluations import (
    EvaluatedStrategy,
    EvaluationRun,
    EvaluationStatus,
    HysteresisRecord,
)
from policies.models.versions import (
    PolicyApproval,
    PolicyStatus,
    PresetMode,
    ReviewDecision,
    WorldPolicy,
)

__all__ = [
    "DecisionMemory",
    "EvaluatedStrategy",
    "EvaluationRun",
    "EvaluationStatus",
    "HistoryEntry",
    "HysteresisRecord",
    "PolicyApproval",
    "PolicyStatus",
    "PresetMode",
    "ReviewDecision",
    "StrategyBinding",
    "WorldDecisions",
    "WorldPolicy",
]
