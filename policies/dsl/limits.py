"""Bounds that keep a hostile or mistaken document from costing time or memory.

They are far above what a real policy needs (a policy is a few hundred bytes to a few kilobytes).
"""

MAX_DOCUMENT_CHARS = 256 * 1024
"""Longest accepted document text, in characters."""

MAX_DEPTH = 64
"""Deepest nesting of values in a document (the top-level mapping is level 1)."""

MAX_ALIASES = 100
"""Most YAML aliases (`*name`) a document may use."""

MAX_NODES = 10_000
"""Most values a document may hold once every alias is expanded (a real policy holds a few
hundred); a document given as JSON data rather than text is counted the same way."""

MAX_GATES = 1_000
"""Most comparisons in `selection.gates`, across every `and`/`or` group."""

MAX_GATE_DEPTH = 16
"""Deepest nesting of `and`/`or` groups in `selection.gates`."""

MAX_EXPRESSION_CHARS = 1000
"""Longest comparison or score expression, in characters."""

MAX_EXPRESSION_DEPTH = 40
"""Deepest expression tree (operators and functions applied to each other)."""

MAX_METRIC_NAME_CHARS = 128
"""Longest metric name."""

MAX_DURATION_SECONDS = 36500 * 86400
"""Longest duration: 36500 days (100 years)."""

MAX_PRESET_OVERRIDES = 200
"""Most entries `preset_overrides` may hold (a preset has about a dozen values to change)."""
