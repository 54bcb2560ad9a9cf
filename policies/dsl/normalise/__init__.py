"""From a loaded document (plain dicts and lists) to the normalised `Policy`.

Accepts the current language, the older WorldService form (`thresholds`, `top_k`, `correlation`,
`hysteresis: {metric, enter, exit}`, their `selection`-nested variants, `validation`) and presets
with `preset_overrides` (docs/policy-language.md). Every problem found is collected under its
document path and raised together as one `PolicyValidationError`.

One module per section of the document; the older form is a pre-pass (`legacy.py`) that gives
its parts in the current language's terms before the current sections are read. `parts.py`
puts the parts together and reports a part given in two places.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import ROOT_PATH, PolicyValidationError, describe_type
from ..limits import MAX_NODES
from ..loader import load_document
from ..model import Policy
from .evidence import read_data_currency, read_sample
from .legacy import lift_older_form
from .parts import Parts
from .reader import DocumentReader
from .selection import SELECTION_KEYS, read_selection
from .validation import read_validation

TOP_LEVEL_KEYS = (
    "data_currency",
    "sample",
    "selection",
    "validation",
    "preset",
    "preset_overrides",
    "thresholds",
    "top_k",
    "correlation",
    "hysteresis",
)

__all__ = ["SELECTION_KEYS", "TOP_LEVEL_KEYS", "parse_policy", "parse_policy_text"]


def parse_policy(data: Mapping[str, Any]) -> Policy:
    """Validate a loaded policy document and return its normalised form.

    Raises `PolicyValidationError` with every problem found, keyed by document path. A document
    holding more than `MAX_NODES` values is refused before any of them is looked at (text went
    through the same bound in `load_document`; data sent as JSON is counted here).
    """
    if _count_values(data, MAX_NODES) > MAX_NODES:
        raise PolicyValidationError.single(
            ROOT_PATH, f"the document holds too many values (more than {MAX_NODES})"
        )
    return _normalise(data)


def parse_policy_text(text: str) -> Policy:
    """Load YAML or JSON text with `load_document` and normalise it with `parse_policy`."""
    return parse_policy(load_document(text))


def _normalise(data: object) -> Policy:
    if not isinstance(data, Mapping):
        raise PolicyValidationError.single(
            ROOT_PATH, f"the policy must be a mapping of sections, not {describe_type(data)}"
        )
    read = DocumentReader()
    parts = Parts(read.errors)
    read.check_keys(data, "", TOP_LEVEL_KEYS)
    lift_older_form(read, parts, data)
    data_currency = read_data_currency(read, data.get("data_currency"), "data_currency")
    sample = read_sample(read, data.get("sample"), "sample")
    read_selection(read, parts, data.get("selection"))
    validation = read_validation(read, data.get("validation"), "validation")
    read.errors.raise_if_any()
    return Policy(
        data_currency=data_currency,
        sample=sample,
        selection=parts.selection(),
        validation=validation,
    )


def _count_values(data: object, limit: int) -> int:
    """How many values `data` holds (keys count as values), counting no further than `limit`."""
    count = 0
    pending: list[object] = [data]
    while pending and count <= limit:
        value = pending.pop()
        count += 1
        if isinstance(value, Mapping):
            count += len(value)
            pending.extend(value.values())
        elif isinstance(value, list | tuple):
            pending.extend(value)
    return count
