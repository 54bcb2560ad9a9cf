"""Reading a policy document's text (YAML, or JSON, which YAML reads too) into plain data.

Only PyYAML's safe loader is used, made stricter: no duplicate keys, JSON-style exponent numbers
(`1e-3`) read as numbers, and bounds on size, nesting depth and alias use so that a hostile document
(a "billion laughs" alias bomb, ten thousand nested brackets) is refused at once. PyYAML composes
nested values recursively, so nesting is counted as each value starts and composition stops at
`MAX_DEPTH`, long before Python's recursion limit.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError
from yaml.error import MarkedYAMLError
from yaml.events import AliasEvent, CollectionEndEvent, CollectionStartEvent, NodeEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.reader import ReaderError

from .errors import YAML_PATH, PolicyValidationError, printable
from .limits import MAX_ALIASES, MAX_DEPTH, MAX_DOCUMENT_CHARS, MAX_NODES

FLOAT_TAG = "tag:yaml.org,2002:float"
MERGE_TAG = "tag:yaml.org,2002:merge"
NULL_TAG = "tag:yaml.org,2002:null"

# YAML 1.1 wants a dot in a float and a sign in its exponent; JSON writes `1e5` and `1E-3`.
JSON_EXPONENT_FLOAT = re.compile(r"^[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][-+]?[0-9]+$")
_FLOAT_FIRST_CHARS = list("-+0123456789.")


class _Position(Protocol):
    line: int
    column: int


class PolicyLoader(yaml.SafeLoader):
    """The safe loader with duplicate-key refusal and bounds on depth, aliases and size."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0
        # id(node) -> (values it expands to, nesting height), for nodes fully composed so far.
        self._shape: dict[int, tuple[int, int]] = {}

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                # types-pyyaml leaves Parser.peek_event untyped.
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call, unused-ignore]
                raise ComposerError(None, None, _too_deep_message(), mark)
            if self.check_event(AliasEvent):
                return self._compose_alias(parent, index)
            node = super().compose_node(parent, index)
            if node is not None:
                self._record_shape(node)
            return node
        finally:
            self._depth -= 1

    def _compose_alias(self, parent: Node | None, index: int) -> Node | None:
        # types-pyyaml leaves Parser.peek_event untyped.
        mark = self.peek_event().start_mark  # type: ignore[no-untyped-call, unused-ignore]
        self._aliases += 1
        if self._aliases > MAX_ALIASES:
            raise ComposerError(
                None, None, f"the document uses too many aliases (more than {MAX_ALIASES})", mark
            )
        node = super().compose_node(parent, index)
        shape = self._shape.get(id(node))
        if shape is None:
            raise ComposerError(None, None, "an alias may not refer to a value containing it", mark)
        _, height = shape
        if self._depth + height - 1 > MAX_DEPTH:
            raise ComposerError(
                None,
                None,
                _too_deep_message() + " once this alias is expanded",
                mark,
            )
        return node

    def _record_shape(self, node: Node) -> None:
        children: list[Node] = []
        if isinstance(node, SequenceNode):
            children = list(node.value)
        elif isinstance(node, MappingNode):
            children = [part for pair in node.value for part in pair]
        size, height = 1, 1
        for child in children:
            child_size, child_height = self._shape[id(child)]
            size += child_size
            height = max(height, child_height + 1)
        if size > MAX_NODES:
            raise ComposerError(
                None,
                None,
                f"the document holds too many values (more than {MAX_NODES}, "
                "counting each alias as a copy)",
                node.start_mark,
            )
        self._shape[id(node)] = (size, height)

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError, TypeError) as exc:
            # PyYAML lets these out for values that match a type's pattern but not its range,
            # such as `2024-13-45` or an integer with thousands of digits.
            tag = str(node.tag).rsplit(":", 1)[-1]
            shown = printable(str(node.value)) if isinstance(node, ScalarNode) else "this value"
            raise ConstructorError(
                None, None, f"cannot read '{shown}' as {tag}", node.start_mark
            ) from exc

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, MappingNode):
            seen: set[Any] = set()
            for key_node, _ in node.value:
                if not isinstance(key_node, ScalarNode) or key_node.tag == MERGE_TAG:
                    continue
                key = self.construct_object(key_node, deep=deep)
                if key in seen:
                    raise ConstructorError(
                        None,
                        None,
                        f"duplicate key '{printable(str(key))}'",
                        key_node.start_mark,
                    )
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


class PolicyDumper(yaml.SafeDumper):
    """The safe dumper, quoting every string that `PolicyLoader` would read as something else."""


for _resolver_class in (PolicyLoader, PolicyDumper):
    _resolver_class.add_implicit_resolver(FLOAT_TAG, JSON_EXPONENT_FLOAT, _FLOAT_FIRST_CHARS)


def load_document(text: str) -> dict[str, Any]:
    """Read a policy document (YAML or JSON text) into a mapping of plain values.

    Raises `PolicyValidationError` with one message under the path `yaml` when the text is too
    large, is not valid YAML/JSON (`line L, column C: ...`, both counted from 1), is nested too
    deeply, abuses aliases, or is not a mapping at the top level.
    """
    _check_text(text)
    _refuse_deep_nesting_fast(text)
    data = _read(text)
    if not isinstance(data, dict):  # a mapping tagged as something else, such as `!!set {a}`
        raise PolicyValidationError.single(YAML_PATH, "the document must be a mapping of sections")
    return data


def _check_text(text: object) -> None:
    """Refuse what is not text, or is too large to read at all."""
    if not isinstance(text, str):
        raise PolicyValidationError.single(YAML_PATH, "the document must be text")
    if len(text) > MAX_DOCUMENT_CHARS:
        raise PolicyValidationError.single(
            YAML_PATH,
            f"the document is too large ({len(text)} characters; at most {MAX_DOCUMENT_CHARS})",
        )


def _read(text: str) -> Any:
    """Compose and construct the document with `PolicyLoader`; every failure is a `yaml` error."""
    loader: PolicyLoader | None = None
    try:
        loader = PolicyLoader(text)
        return loader.construct_document(_top_level_mapping(loader))
    except PolicyValidationError:
        raise
    except MarkedYAMLError as exc:
        raise PolicyValidationError.single(YAML_PATH, _marked_message(exc)) from None
    except ReaderError as exc:
        raise PolicyValidationError.single(YAML_PATH, _reader_message(text, exc)) from None
    except (yaml.YAMLError, ValueError, TypeError, OverflowError, RecursionError) as exc:
        # Not expected after the checks above; a document must never turn into a server error.
        raise PolicyValidationError.single(
            YAML_PATH, f"the document cannot be read ({type(exc).__name__})"
        ) from None
    finally:
        if loader is not None:
            loader.dispose()


def _top_level_mapping(loader: PolicyLoader) -> MappingNode:
    """The document's single node, which must be a mapping (of sections)."""
    node = loader.get_single_node()
    if node is None or (isinstance(node, ScalarNode) and node.tag == NULL_TAG):
        raise PolicyValidationError.single(
            YAML_PATH, "the document is empty; it must be a mapping of sections"
        )
    if not isinstance(node, MappingNode):
        kind = "a list" if isinstance(node, SequenceNode) else "a single value"
        raise PolicyValidationError.single(
            YAML_PATH,
            _at(node.start_mark, f"the document must be a mapping of sections, not {kind}"),
        )
    return node


def _refuse_deep_nesting_fast(text: str) -> None:
    """Refuse a too-deep document using libyaml's parser, when PyYAML was built with it.

    `PolicyLoader` refuses the same documents by itself; this only makes the refusal quick for
    shapes that are slow in pure Python (thousands of `[` in a row). Anything else libyaml does
    not like is left to `PolicyLoader`, whose messages are the ones reported.
    """
    if not yaml.__with_libyaml__:
        return
    open_collections = 0
    too_deep_at: _Position | None = None
    try:
        for event in yaml.parse(text, Loader=yaml.CSafeLoader):
            if isinstance(event, NodeEvent):
                if open_collections + 1 > MAX_DEPTH:
                    too_deep_at = event.start_mark
                    break
                if isinstance(event, CollectionStartEvent):
                    open_collections += 1
            elif isinstance(event, CollectionEndEvent):
                open_collections -= 1
    except (yaml.YAMLError, ValueError):
        # Including text libyaml cannot take at all (unpaired surrogates): PolicyLoader decides.
        return
    if too_deep_at is not None:
        raise PolicyValidationError.single(YAML_PATH, _at(too_deep_at, _too_deep_message()))


def _too_deep_message() -> str:
    return f"the document is nested too deeply (more than {MAX_DEPTH} levels)"


def _at(mark: _Position | None, message: str) -> str:
    """`line L, column C: message`, both counted from 1, as every positioned message starts."""
    if mark is None:
        return f"line 1, column 1: {message}"
    return f"line {mark.line + 1}, column {mark.column + 1}: {message}"


def _marked_message(exc: MarkedYAMLError) -> str:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "the document is not valid YAML"
    message = problem
    if exc.context and exc.problem and exc.context_mark is not None:
        context_mark = exc.context_mark
        message += (
            f" ({exc.context}, which started at line {context_mark.line + 1}, "
            f"column {context_mark.column + 1})"
        )
    return _at(mark, message)


def _reader_message(text: str, exc: ReaderError) -> str:
    position = max(0, min(exc.position, len(text)))
    before = text[:position]
    line = before.count("\n") + 1
    column = position - (before.rfind("\n") + 1) + 1
    character = exc.character
    shown = f"#x{character:04x}" if isinstance(character, int) else repr(character)
    return f"line {line}, column {column}: the character {shown} is not allowed ({exc.reason})"
