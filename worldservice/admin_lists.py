"""Admin list pages over large tables: a paginator without exact counts, and typed-in filters.

The audit log grows without bound (100,000 rows in one world is ordinary), so its list page must
not count every matching row on each load, nor list every distinct value of a column as filter
links (see docs/performance.md, "Admin pages").
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from django.contrib import admin
from django.core.paginator import Page, Paginator
from django.db import connections
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.functional import cached_property

EXACT_COUNT_LIMIT = 10_000


class LargeTablePaginator(Paginator):
    """Counts exactly up to EXACT_COUNT_LIMIT rows, and beyond that takes PostgreSQL's planner
    estimate (`estimated` is then True and the page says "about").

    Counting stops at the limit (`COUNT(*)` over a `LIMIT` subquery), so a page costs the same
    however many rows match. With an estimated count, pages past the estimate still open (they
    may be empty) rather than being refused.
    """

    estimated = False

    @cached_property
    def count(self) -> int:
        queryset: QuerySet[Any] = self.object_list.order_by()  # type: ignore[attr-defined]
        capped = queryset[: EXACT_COUNT_LIMIT + 1].count()
        if capped <= EXACT_COUNT_LIMIT:
            return capped
        estimate = _planner_estimate(queryset)
        if estimate is None:
            return queryset.count()
        self.estimated = True
        return max(estimate, capped)

    def validate_number(self, number: Any) -> int:
        if self.estimated:
            return max(1, int(number))
        return super().validate_number(number)

    def page(self, number: Any) -> Page:
        if not self.estimated:
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        rows = self.object_list[bottom : bottom + self.per_page]
        return self._get_page(rows, number, self)  # type: ignore[attr-defined, no-any-return]


def _planner_estimate(queryset: QuerySet[Any]) -> int | None:
    """The planner's row estimate for `queryset` (PostgreSQL only; None elsewhere)."""
    if connections[queryset.db].vendor != "postgresql":
        return None
    plan = json.loads(queryset.explain(format="json"))
    return int(plan[0]["Plan"]["Plan Rows"])


class InputFilter(admin.ListFilter):
    """A list filter with typed-in values instead of links, for columns with too many values to
    list (actors) or for ranges (dates). Subclasses name their inputs in `inputs` as
    `(parameter, label, placeholder)` and filter in `queryset`."""

    template = "admin/filters/input.html"
    inputs: tuple[tuple[str, str, str], ...] = ()

    def __init__(
        self, request: HttpRequest, params: dict[str, Any], model: Any, model_admin: Any
    ) -> None:
        super().__init__(request, params, model, model_admin)
        for name, _, _ in self.inputs:
            if name in params:
                values = params.pop(name)
                value = values[-1] if isinstance(values, list) else values
                if value.strip():
                    self.used_parameters[name] = value.strip()

    def has_output(self) -> bool:
        return True

    def expected_parameters(self) -> list[str | None]:
        return [name for name, _, _ in self.inputs]

    def value(self, name: str) -> str:
        return str(self.used_parameters.get(name, ""))

    def choices(self, changelist: Any) -> Iterator[Any]:
        """One "choice" for the template: the inputs, and the list's other parameters to keep."""
        own = {name for name, _, _ in self.inputs}
        keep = [
            (name, value)
            for name, values in changelist.filter_params.items()
            if name not in own
            for value in values
        ]
        yield {
            "inputs": [
                {"name": name, "label": label, "placeholder": hint, "value": self.value(name)}
                for name, label, hint in self.inputs
            ],
            "keep": keep,
            "clear_url": changelist.get_query_string(remove=list(own)),
            "active": bool(self.used_parameters),
        }
