"""Every policy example in the language spec and in docs/policy-language.md is a valid policy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from policies.dsl import dump_policy_yaml, parse_policy_text, summarize_gates

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT.parent / "shared" / "spec" / "policy-dsl.md"
GUIDE = ROOT / "docs" / "policy-language.md"
_BLOCK = re.compile(r"```(yaml|json)\n(.*?)```", re.DOTALL)


def examples(path: Path) -> list[str]:
    return [match.group(2) for match in _BLOCK.finditer(path.read_text(encoding="utf-8"))]


# The spec lives beside the repository (../shared), not in it: a checkout elsewhere has no copy.
SPEC_EXAMPLES = examples(SPEC) if SPEC.exists() else []


@pytest.mark.skipif(not SPEC.exists(), reason=f"{SPEC} is not beside this checkout")
def test_examples__spec__has_the_section_1_document() -> None:
    assert len(SPEC_EXAMPLES) == 1


def test_examples__guide__has_examples_for_every_section() -> None:
    assert len(examples(GUIDE)) >= 15


@pytest.mark.parametrize("text", SPEC_EXAMPLES + examples(GUIDE))
def test_parse_policy_text__documented_example__is_valid(text: str) -> None:
    policy = parse_policy_text(text)

    assert parse_policy_text(dump_policy_yaml(policy)) == policy


def test_summarize_gates__guide_complete_example__reads_as_documented() -> None:
    guide = GUIDE.read_text(encoding="utf-8")
    first_example = examples(GUIDE)[0]

    assert summarize_gates(parse_policy_text(first_example)) in guide


def test_guide__older_form_example__equals_its_current_form() -> None:
    older, current = (
        text
        for text in examples(GUIDE)
        if text.startswith(("thresholds:", "selection:\n  gates: ["))
    )

    assert parse_policy_text(older) == parse_policy_text(current)
