"""Step 4: the score.

Computed for every sufficient strategy, `pass` and `fail` alike (it is informative), but only the
gate-passers are ranked (step 5). A missing metric, a division by zero, a domain error or any
non-finite intermediate value gives no score; a gate-passer without one ranks last.
"""

from __future__ import annotations

from collections.abc import Sequence

from policies.engine.compiler import CompiledPolicy
from policies.engine.result import SCORE_MISSING
from policies.engine.work import StrategyWork


def apply_score(works: Sequence[StrategyWork], compiled: CompiledPolicy) -> None:
    """Step 4 for each sufficient strategy: its score, and `score_missing` for a passer without."""
    score = compiled.score
    for work in works:
        work.score = score(work.values)
        if work.score is None and work.status == "pass":
            work.reasons.append(SCORE_MISSING)
