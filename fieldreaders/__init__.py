"""Readers for the fields of a decoded JSON or YAML document, with one wording of their errors.

A pure library (no Django), shared by the policy language (`policies/dsl`), the rebalancing
planner (`rebalancing/planner`) and the activation override rules (`activation/override_rules.py`),
so a number, a piece of text or an id is checked, and its problem worded, the same way in each.
The wording is listed in docs/policy-language.md ("Error messages") and docs/rebalancing.md.

    errors = FieldErrors(root="non_field_errors")
    read = FieldReader(errors, join_key=dotted_key)
    weight = read.number(body.get("weight"), "weight", minimum=0.0, maximum=1.0)
    if errors: ...   # errors.errors == {"weight": ["must be between 0 and 1"]}
"""

from .errors import FieldErrors
from .identifiers import RUN_ID_PATTERN, STRATEGY_ID_PATTERN, WORLD_ID_PATTERN
from .paths import dotted_key, join_index, quoted_key
from .reader import FieldReader
from .wording import (
    choice_message,
    describe_type,
    format_number,
    printable,
    range_message,
    safe_text,
    show,
    too_many_message,
    unknown_choice,
)

__all__ = [
    "RUN_ID_PATTERN",
    "STRATEGY_ID_PATTERN",
    "WORLD_ID_PATTERN",
    "FieldErrors",
    "FieldReader",
    "choice_message",
    "describe_type",
    "dotted_key",
    "format_number",
    "join_index",
    "printable",
    "quoted_key",
    "range_message",
    "safe_text",
    "show",
    "too_many_message",
    "unknown_choice",
]
