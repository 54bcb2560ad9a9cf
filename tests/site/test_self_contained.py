"""The repository stands on its own: nothing cites a document outside it, and every citation of
one of its own pages (`docs/x.md#section` in code, `[x](x.md#section)` in the docs) resolves.
"""

from __future__ import annotations

import re
import subprocess
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEXT_SUFFIXES = {".py", ".md", ".html", ".txt", ".toml", ".yaml", ".yml", ".sh", ".cfg", ".ini"}
SKIPPED_DIRS = {".git", ".venv", "var", "node_modules", ".ruff_cache", ".mypy_cache", "__pycache__"}
# Written in pieces so that this file does not cite what it looks for.
OUTSIDE = re.compile(
    "|".join(
        [
            r"\.\./" + "shared",
            "contract " + "§",
            "policy-" + r"dsl\.md",
            "gateway-" + r"wire\.md",
            r"\bseeds" + "/",
            "/" + "work/",
        ]
    )
)
CODE_CITATION = re.compile(r"\bdocs/([\w.-]+\.md)(?:#([\w-]+))?")
DOCS_LINK = re.compile(r"\]\(([\w.-]+\.md)(?:#([\w-]+))?\)")
HEADING = re.compile(r"^#{1,6} (.+)$", re.MULTILINE)


def _repository_files() -> list[Path]:
    """The files git tracks or would track (a checkout without git: every file)."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return list(ROOT.rglob("*"))
    return [ROOT / name for name in listed]


def _text_files() -> list[Path]:
    files = []
    for path in _repository_files():
        relative = path.relative_to(ROOT)
        if SKIPPED_DIRS.intersection(relative.parts) or not path.is_file():
            continue
        if path.suffix in TEXT_SUFFIXES or relative.parts[0] in {"bin", ".ci"}:
            files.append(path)
    return sorted(files)


def _slug(heading: str) -> str:
    """The anchor a Markdown renderer (GitHub's rule) gives a heading."""
    text = re.sub(r"[`*]", "", heading.strip().lower())
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


@cache
def _anchors(page: str) -> frozenset[str]:
    path = ROOT / "docs" / page
    return frozenset(_slug(match) for match in HEADING.findall(path.read_text(encoding="utf-8")))


def _problems_in(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8", errors="replace")
    relative = path.relative_to(ROOT)
    problems = [f"{relative}: cites {m.group(0)!r}, outside" for m in OUTSIDE.finditer(text)]
    citations = list(CODE_CITATION.finditer(text))
    if relative.parts[0] == "docs":
        citations += DOCS_LINK.finditer(text)
    for match in citations:
        page, anchor = match.groups()
        if not (ROOT / "docs" / page).is_file():
            problems.append(f"{relative}: cites docs/{page}, which does not exist")
        elif anchor and anchor not in _anchors(page):
            problems.append(f"{relative}: cites docs/{page}#{anchor}, no such section")
    return problems


def test_repository__every_file__cites_only_documents_inside_it() -> None:
    this_file = Path(__file__).resolve()
    problems = [
        problem
        for path in _text_files()
        if path.resolve() != this_file
        for problem in _problems_in(path)
    ]

    assert problems == []


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("## 11. How one evaluation runs", "11-how-one-evaluation-runs"),
        ("## 12. The `alpha_performance` metrics", "12-the-alpha_performance-metrics"),
        ("### alpha_metrics (v2)", "alpha_metrics-v2"),
        ("## What the existing Gateway sends", "what-the-existing-gateway-sends"),
    ],
)
def test_slug__heading__anchor_as_rendered(heading: str, anchor: str) -> None:
    assert _slug(heading.lstrip("# ")) == anchor


def test_contract__names_every_topic_page() -> None:
    contract = (ROOT / "docs" / "contract.md").read_text(encoding="utf-8")

    for page in ("api.md", "decisions.md", "activation.md", "events.md", "rebalancing.md"):
        assert f"({page}" in contract
