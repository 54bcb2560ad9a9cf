"""Where in the text an error is: line and column for each `{path: [messages]}` entry.

YAML syntax errors carry their place in the message (`line L, column C: ...`). Errors about a
value carry its document path (`selection.gates.and[2]`); the path is followed through the YAML
node tree of the same text to the key or item it names. A path that does not fully exist in the
text (a missing key, or a part the normaliser renamed) points at the deepest part that does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .errors import ROOT_PATH, YAML_PATH
from .limits import MAX_DOCUMENT_CHARS
from .loader import PolicyLoader

_POSITIONED = re.compile(r"^line (\d+), column (\d+): ")
_PATH_PART = re.compile(r'\.?([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]')

PathPart = str | int


@dataclass(frozen=True, slots=True)
class LocatedError:
    """One message, with the place it is about (line and column counted from 1, when known)."""

    path: str
    message: str
    line: int | None
    column: int | None


def parse_path(path: str) -> list[PathPart]:
    """`selection.gates.and[2]` → `['selection', 'gates', 'and', 2]`; stops at anything else."""
    parts: list[PathPart] = []
    position = 0
    while position < len(path):
        match = _PATH_PART.match(path, position)
        if match is None or match.end() == position:
            break
        name, index, quoted = match.groups()
        if name is not None:
            parts.append(name)
        elif index is not None:
            parts.append(int(index))
        else:
            parts.append(quoted.replace('\\"', '"').replace("\\\\", "\\"))
        position = match.end()
    return parts


def locate_errors(text: str, errors: Mapping[str, Sequence[str]]) -> list[LocatedError]:
    """Every message of `errors` with its line and column in `text`, in the order of the text
    (messages without a place come last, in their given order)."""
    root = _compose(text)
    located: list[LocatedError] = []
    for path, messages in errors.items():
        for message in messages:
            located.append(_locate(root, path, message))
    order = {id(error): number for number, error in enumerate(located)}
    located.sort(key=lambda e: (e.line is None, e.line or 0, e.column or 0, order[id(e)]))
    return located


def _locate(root: Node | None, path: str, message: str) -> LocatedError:
    positioned = _POSITIONED.match(message)
    if positioned is not None:
        return LocatedError(
            path=path,
            message=message[positioned.end() :],
            line=int(positioned.group(1)),
            column=int(positioned.group(2)),
        )
    place = None if path in (YAML_PATH, ROOT_PATH) else _place(root, parse_path(path))
    line, column = place if place is not None else (None, None)
    return LocatedError(path=path, message=message, line=line, column=column)


def _compose(text: str) -> Node | None:
    """The node tree of `text`, or None when it cannot be read (its errors say where)."""
    if len(text) > MAX_DOCUMENT_CHARS:
        return None
    loader = PolicyLoader(text)
    try:
        return loader.get_single_node()
    except (yaml.YAMLError, ValueError, TypeError, OverflowError, RecursionError):
        return None
    finally:
        loader.dispose()


def _place(root: Node | None, parts: list[PathPart]) -> tuple[int, int] | None:
    """The (line, column) of the deepest node the path reaches: a mapping entry's key, or a list
    item."""
    node, place = root, None
    for part in parts:
        found = _child(node, part)
        if found is None:
            break
        node, marker = found
        place = (marker.start_mark.line + 1, marker.start_mark.column + 1)
    return place


def _child(node: Node | None, part: PathPart) -> tuple[Node, Node] | None:
    """The child `part` of `node` and the node that marks its place (the key, for a mapping)."""
    if isinstance(node, MappingNode) and isinstance(part, str):
        for key, value in node.value:
            if isinstance(key, ScalarNode) and key.value == part:
                return value, key
    if isinstance(node, SequenceNode) and isinstance(part, int) and part < len(node.value):
        item = node.value[part]
        return item, item
    return None
