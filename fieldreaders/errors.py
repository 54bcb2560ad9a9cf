"""Messages collected by path, so one pass over a document reports every problem it finds."""

from __future__ import annotations


class FieldErrors:
    """`{path: [messages]}` in the order found; a message is kept once per path.

    `root` is the path of problems with the document as a whole (an empty path is filed there).
    """

    def __init__(self, root: str) -> None:
        self.root = root
        self.errors: dict[str, list[str]] = {}

    def add(self, path: str, message: str) -> None:
        messages = self.errors.setdefault(path or self.root, [])
        if message not in messages:
            messages.append(message)

    def __bool__(self) -> bool:
        return bool(self.errors)

    def __len__(self) -> int:
        """How many paths have a problem (a reader compares it before and after a step)."""
        return len(self.errors)
