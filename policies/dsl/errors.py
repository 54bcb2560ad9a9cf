"""The one error type of the policy language, and how document paths are written.

A path names the place in the document an error is about: mapping keys joined by dots, list items
as `[i]` counted from 0 (`selection.gates.and[2]`). A key that is not a plain name is written in
brackets and quotes (`preset_overrides["sharpe.min"]`). Problems with the text itself (YAML
syntax, size, nesting, aliases) are reported under the path `yaml`. Values are named and quoted
in messages by the shared field readers (`fieldreaders.wording`), so the language and the
request bodies of the API word a problem the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from fieldreaders import FieldErrors, describe_type, join_index, printable, safe_text, show
from fieldreaders import quoted_key as join_key

YAML_PATH = "yaml"
"""The path of errors about the document text rather than one value in it."""

ROOT_PATH = "policy"
"""The path of errors about the document as a whole (for example, not a mapping)."""

__all__ = [
    "ROOT_PATH",
    "YAML_PATH",
    "ErrorCollector",
    "PolicyValidationError",
    "describe_type",
    "join_index",
    "join_key",
    "printable",
    "safe_text",
    "show",
]


class PolicyValidationError(ValueError):
    """A policy document that cannot be loaded or does not validate.

    `errors` maps document paths to the messages about them, in the order they were found; it is
    the `errors` member of the API's 400 body.
    """

    def __init__(self, errors: Mapping[str, Sequence[str]]) -> None:
        self.errors: dict[str, list[str]] = {
            path: list(messages) for path, messages in errors.items() if messages
        }
        if not self.errors:
            self.errors = {ROOT_PATH: ["the policy is not valid"]}
        super().__init__(self.summary())

    @classmethod
    def single(cls, path: str, message: str) -> PolicyValidationError:
        """An error with one message at one path."""
        return cls({path: [message]})

    def summary(self) -> str:
        """All errors on one line: `path: message; path: message`."""
        return "; ".join(
            f"{path}: {message}" for path, messages in self.errors.items() for message in messages
        )

    def __reduce__(self) -> tuple[type[PolicyValidationError], tuple[dict[str, list[str]]]]:
        # Exceptions pickle through `args`, which here is the summary, not the mapping.
        return (type(self), (self.errors,))


class ErrorCollector(FieldErrors):
    """Collects messages by document path so that one pass reports every problem it can find;
    problems with the document as a whole go under `policy`."""

    def __init__(self) -> None:
        super().__init__(root=ROOT_PATH)

    def raise_if_any(self) -> None:
        if self.errors:
            raise PolicyValidationError(self.errors)
