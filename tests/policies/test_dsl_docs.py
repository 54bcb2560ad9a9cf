"""Every policy example in docs/policy-language.md is a valid policy, and the guide is complete."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from policies.dsl import dump_policy_yaml, parse_policy_text, summarize_gates

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "policy-language.md"
_BLOCK = re.compile(r"```(yaml|json)\n(.*?)```", re.DOTALL)
TOP_LEVEL_SECTIONS = ("data_currency", "sample", "selection", "validation")
SELECTION_PARTS = ("gates", "score", "topk", "constraints", "hysteresis")


def examples(path: Path) -> list[str]:
    return [match.group(2) for match in _BLOCK.finditer(path.read_text(encoding="utf-8"))]


def test_examples__guide__complete_example_uses_every_section() -> None:
    complete = parse_policy_text(examples(GUIDE)[0])
    document = dump_policy_yaml(complete)

    for section in TOP_LEVEL_SECTIONS + SELECTION_PARTS:
        assert f"{section}:" in document, section


def test_guide__every_evaluation_step_and_alpha_metric__described() -> None:
    guide = GUIDE.read_text(encoding="utf-8")
    steps = guide[guide.index("## 11. How one evaluation runs") :]

    names = ("History", "Sample", "Gates", "Score", "Ranking and top-k", "Constraints")
    for number, name in enumerate((*names, "Hysteresis", "Result"), start=1):
        assert f"{number}. **{name}.**" in steps
    for key in ("sharpe", "max_drawdown", "win_ratio", "profit_factor", "car_mdd", "rar_mdd"):
        assert f"`alpha_performance.{key}`" in guide


def test_examples__guide__has_examples_for_every_section() -> None:
    assert len(examples(GUIDE)) >= 15


@pytest.mark.parametrize("text", examples(GUIDE))
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
