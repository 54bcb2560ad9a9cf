"""`selection`: the gates, the score, the top-k, the constraints and the hysteresis.

Its older sections (`thresholds`, `top_k`, `correlation`) were read by the pre-pass
(`legacy.py`); here only the keys are checked for them.
"""

from __future__ import annotations

from .constraints import read_constraints
from .gates import GateReader
from .hysteresis import read_hysteresis
from .parts import Parts
from .reader import DocumentReader
from .score import read_score
from .topk import read_topk

PATH = "selection"
SELECTION_KEYS = (
    "gates",
    "score",
    "topk",
    "constraints",
    "hysteresis",
    "thresholds",
    "top_k",
    "correlation",
)


def read_selection(read: DocumentReader, parts: Parts, value: object) -> None:
    selection = read.mapping(value, PATH)
    if selection is None:
        return
    read.check_keys(selection, PATH, SELECTION_KEYS)
    if selection.get("hysteresis") is not None:
        read_hysteresis(read, parts, selection["hysteresis"], f"{PATH}.hysteresis")
    if selection.get("gates") is not None:
        parts.add_gate(GateReader(read).gate(selection["gates"], f"{PATH}.gates"))
    if selection.get("score") is not None:
        path = f"{PATH}.score"
        parts.set_score(read_score(read, selection["score"], path), path)
    if selection.get("topk") is not None:
        path = f"{PATH}.topk"
        parts.set_topk(read_topk(read, selection["topk"], path), path)
    constraints = read.mapping(selection.get("constraints"), f"{PATH}.constraints")
    if constraints is not None:
        read_constraints(read, parts, constraints, f"{PATH}.constraints")
