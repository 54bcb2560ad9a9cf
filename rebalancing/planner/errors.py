"""The one exception the planner raises for a request it will not plan."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class RebalanceValidationError(Exception):
    """A rebalance request that cannot be planned.

    `errors` maps a field path (`positions[2].qty`, `world_alloc_after.w1`, `non_field_errors`) to
    its messages; `code` is the stable machine word of the error body; `status` is the HTTP status
    the API should answer with (400 for bad input, 501 for a mode that is not implemented).
    """

    def __init__(
        self,
        errors: Mapping[str, Sequence[str]],
        code: str = "invalid",
        status: int = 400,
        detail: str | None = None,
    ) -> None:
        self.errors: dict[str, list[str]] = {key: list(msgs) for key, msgs in errors.items()}
        self.code = code
        self.status = status
        self.detail = detail or _default_detail(self.errors)
        super().__init__(self.detail)

    def __repr__(self) -> str:
        return (
            f"RebalanceValidationError(code={self.code!r}, status={self.status}, "
            f"errors={self.errors!r})"
        )


def _default_detail(errors: Mapping[str, Sequence[str]]) -> str:
    if not errors:
        return "Invalid rebalance request."
    path, messages = next(iter(sorted(errors.items())))
    first = messages[0] if messages else "invalid"
    more = len(errors) - 1
    suffix = f" (and {more} more field{'s' if more != 1 else ''})" if more else ""
    return f"Invalid rebalance request: {path}: {first}{suffix}."
