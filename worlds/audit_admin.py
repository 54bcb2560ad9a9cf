"""The auditors' pages: the audit log list, its exports, chain verification, "What was live at".

Auditors hold `worlds.view_worldauditlog` (the "Auditors" group) and are staff. Nothing here
writes: the log is append-only in the database, and every page only reads. The pages stay fast
on a world with 100,000 rows: no exact count past 10,000 rows, no filter that lists every value
of a column, and a fixed number of queries per page (docs/performance.md, "Admin pages").
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from worlds.audit import AUDIT_EVENTS, row_chain_problem, verify_world_chain
from worlds.audit_export import EXPORT_FORMATS, export_response
from worlds.hooks import live_at
from worlds.models import World, WorldAuditLog
from worlds.roles import world_permissions
from worlds.selectors import previous_row_hashes
from worldservice.admin_lists import InputFilter, LargeTablePaginator
from worldservice.clock import parse_rfc3339
from worldservice.readonly_admin import ReadOnlyAdmin

WORLD_PARAMETER = "world__id__exact"  # the world page links here with it
SERVICE_WIDE = "-"  # not a valid world id: the rows of no world (tokens)
EVERY_WORLD = "*"
PREVIEW_CHARS = 32
CORRELATION_CHARS = 12
LIST_JSON_CHARS = 4000
CHAIN_PROBLEM = "chain_problem"  # set on each row of a list page by ChainCheckedRows


def world_choices() -> list[tuple[str, str]]:
    """(id, label) of every world, deleted ones too: the log outlives what it describes."""
    return [
        (world_id, world_id if name in ("", world_id) else f"{world_id} ({name})")
        for world_id, name in World.objects.order_by("id").values_list("id", "name")
    ]


class WorldFilter(admin.SimpleListFilter):
    title = "world"
    parameter_name = WORLD_PARAMETER

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [*world_choices(), (SERVICE_WIDE, "service-wide (no world)")]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[WorldAuditLog]
    ) -> QuerySet[WorldAuditLog]:
        value = self.value()
        if value is None:
            return queryset
        return queryset.filter(world_id="" if value == SERVICE_WIDE else value)


class EventFilter(admin.SimpleListFilter):
    title = "event"
    parameter_name = "event"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(event, event) for event in sorted(AUDIT_EVENTS)]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[WorldAuditLog]
    ) -> QuerySet[WorldAuditLog]:
        value = self.value()
        return queryset if value is None else queryset.filter(event=value)


class ActorFilter(InputFilter):
    title = "actor"
    inputs = (("actor", "Actor", "a username, or system"),)

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[WorldAuditLog]
    ) -> QuerySet[WorldAuditLog]:
        actor = self.value("actor")
        return queryset.filter(actor=actor) if actor else queryset


def parse_moment(text: str, *, end_of_day: bool = False) -> dt.datetime | None:
    """A UTC moment from `2025-08-28`, `2025-08-28 09:00:00` or RFC 3339 text (None if none).

    A bare date means its midnight, or with `end_of_day` the next midnight, so "until" a date
    includes that whole day.
    """
    text = text.strip()
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        pass
    else:
        moment = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
        return moment + dt.timedelta(days=1) if end_of_day else moment
    with_zone = text if text.endswith(("Z", "z")) or "+" in text[10:] else text + "Z"
    return parse_rfc3339(with_zone.replace(" ", "T", 1))


class CreatedAtFilter(InputFilter):
    title = "date (UTC)"
    inputs = (
        ("since", "From", "2025-08-28 [09:00:00]"),
        ("until", "Until", "2025-08-29 (whole day)"),
    )

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[WorldAuditLog]
    ) -> QuerySet[WorldAuditLog]:
        for name, lookup in (("since", "created_at__gte"), ("until", "created_at__lt")):
            raw = self.value(name)
            if not raw:
                continue
            moment = parse_moment(raw, end_of_day=name == "until")
            if moment is None:
                messages.warning(
                    request,
                    f"The {name!r} date {raw!r} was not understood and is ignored: "
                    "write 2025-08-28, 2025-08-28 09:00:00 or 2025-08-28T09:00:00Z.",
                )
                continue
            queryset = queryset.filter(**{lookup: moment})
        return queryset


class ChainCheckedRows(Sequence[WorldAuditLog]):
    """The rows of one list page, each given `chain_problem` ("" when it links and matches its
    hash) with one more query for the whole page, run when the page is first read."""

    def __init__(self, rows: QuerySet[WorldAuditLog]) -> None:
        self._query = rows
        self._rows: list[WorldAuditLog] | None = None

    def _load(self) -> list[WorldAuditLog]:
        if self._rows is None:
            rows = list(self._query)
            previous = previous_row_hashes([row.id for row in rows])
            for row in rows:
                setattr(row, CHAIN_PROBLEM, row_chain_problem(row, previous.get(row.id, "")))
            self._rows = rows
        return self._rows

    def __iter__(self) -> Iterator[WorldAuditLog]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())

    def __getitem__(self, index: Any) -> Any:
        return self._load()[index]


class AuditChangeList(ChangeList):
    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        self.result_list = ChainCheckedRows(self.result_list)


def json_text(value: Any, *, indent: int | None, limit: int | None) -> tuple[str, bool]:
    """`value` as JSON, and whether it was cut at `limit` characters.

    The encoder is read lazily and stopped at the limit, so an apply's row holding a thousand
    entries costs the list page no more than a small one.
    """
    separators = (",", ": ") if indent is not None else (", ", ": ")
    encoder = json.JSONEncoder(
        indent=indent, sort_keys=True, ensure_ascii=False, separators=separators
    )
    parts: list[str] = []
    size = 0
    for chunk in encoder.iterencode(value):
        parts.append(chunk)
        size += len(chunk)
        if limit is not None and size > limit:
            return "".join(parts)[:limit], True
    return "".join(parts), False


def _json_block(value: Any, *, limit: int | None, label: str = "") -> str:
    """Pretty JSON in a disclosure: a one-line preview, the indented text inside."""
    if not value:
        return format_html('<div class="ws-json-empty">{} —</div>', label) if label else "—"
    pretty, cut = json_text(value, indent=2, limit=limit)
    if cut:
        pretty += "\n… (cut here: the row's own page shows all of it)"
    preview, cut = json_text(value, indent=None, limit=PREVIEW_CHARS)
    if cut:
        preview += "…"
    return format_html(
        '<details class="ws-json"><summary>{}{}</summary><pre>{}</pre></details>',
        format_html('<span class="ws-json-label">{}</span> ', label) if label else "",
        preview,
        pretty,
    )


def _chain_badge(problem: str, *, compact: bool) -> str:
    """✓ when the row links to the one before it and matches its hash; ✗ and why, when not."""
    if problem:
        shown = "✗ broken" if compact else f"✗ {problem}"
        return format_html('<span class="ws-bad" title="{}">{}</span>', problem, shown)
    shown = "✓" if compact else "✓ linked to the row before it, and matching its hash"
    return format_html('<span class="ws-good" title="{}">{}</span>', "intact", shown)


class VerifyForm(forms.Form):
    world = forms.ChoiceField(label="World")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        world: forms.ChoiceField = self.fields["world"]  # type: ignore[assignment]
        world.choices = [
            ("", "—"),
            *world_choices(),
            (SERVICE_WIDE, "service-wide rows (no world)"),
            (EVERY_WORLD, "every world"),
        ]


class LiveAtForm(forms.Form):
    world = forms.ChoiceField(label="World")
    at = forms.DateTimeField(
        label="At (UTC)",
        help_text="UTC, to the second: 2025-08-28 09:00:00 or 2025-08-28T09:00:00Z.",
        widget=forms.DateTimeInput(
            attrs={"placeholder": "2025-08-28 09:00:00", "size": 22}, format="%Y-%m-%d %H:%M:%S"
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        world: forms.ChoiceField = self.fields["world"]  # type: ignore[assignment]
        world.choices = [("", "—"), *world_choices()]

    def clean_at(self) -> dt.datetime:
        moment: dt.datetime = self.cleaned_data["at"]
        return moment.astimezone(dt.UTC).replace(microsecond=0)


@admin.register(WorldAuditLog)
class WorldAuditLogAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "chain",
        "created",
        "world",
        "event",
        "actor",
        "correlation",
        "request_and_result",
    )
    list_display_links = ("id",)
    list_filter = (WorldFilter, EventFilter, ActorFilter, CreatedAtFilter)
    search_fields = ("correlation_id",)
    search_help_text = "The exact correlation id of a request (its X-Correlation-ID)."
    ordering = ("-id",)
    sortable_by = ("id", "created")
    list_per_page = 50
    paginator = LargeTablePaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    fields = (
        "id",
        "created_at",
        "world_id",
        "event",
        "actor",
        "correlation_id",
        "request_pretty",
        "result_pretty",
        "prev_hash",
        "hash",
        "chain_detail",
    )
    readonly_fields = fields

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return AuditChangeList

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[WorldAuditLog], search_term: str
    ) -> tuple[QuerySet[WorldAuditLog], bool]:
        # An exact, indexed match: correlation ids are copied, not remembered in part.
        term = search_term.strip()
        return (queryset.filter(correlation_id=term) if term else queryset), False

    # --- columns -------------------------------------------------------------------------

    @admin.display(description="time (UTC)", ordering="created_at")
    def created(self, row: WorldAuditLog) -> str:
        return row.created_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")

    @admin.display(description="world")
    def world(self, row: WorldAuditLog) -> str:
        if not row.world_id:
            return "—"
        # Relative to the list page itself, the only page that shows this column.
        query = urlencode({WORLD_PARAMETER: row.world_id})
        return format_html('<a href="?{}">{}</a>', query, row.world_id)

    @admin.display(description="correlation id")
    def correlation(self, row: WorldAuditLog) -> str:
        if not row.correlation_id:
            return "—"
        query = urlencode({"q": row.correlation_id})
        shown = row.correlation_id
        if len(shown) > CORRELATION_CHARS:
            shown = shown[:CORRELATION_CHARS] + "…"
        return format_html('<a href="?{}" title="{}">{}</a>', query, row.correlation_id, shown)

    @admin.display(description="request → result")
    def request_and_result(self, row: WorldAuditLog) -> str:
        return format_html(
            "{}{}",
            _json_block(row.request, limit=LIST_JSON_CHARS, label="request"),
            _json_block(row.result, limit=LIST_JSON_CHARS, label="result"),
        )

    @admin.display(description="chain")
    def chain(self, row: WorldAuditLog) -> str:
        return _chain_badge(getattr(row, CHAIN_PROBLEM, ""), compact=True)

    @admin.display(description="request")
    def request_pretty(self, row: WorldAuditLog) -> str:
        return _json_block(row.request, limit=None)

    @admin.display(description="result")
    def result_pretty(self, row: WorldAuditLog) -> str:
        return _json_block(row.result, limit=None)

    @admin.display(description="chain status")
    def chain_detail(self, row: WorldAuditLog) -> str:
        previous = previous_row_hashes([row.id]).get(row.id, "")
        return _chain_badge(row_chain_problem(row, previous), compact=False)

    # --- pages -----------------------------------------------------------------------------

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path(
                "export/<str:fmt>/",
                view(self.export_view),
                name="worlds_worldauditlog_export",
            ),
            path("verify/", view(self.verify_view), name="worlds_worldauditlog_verify"),
            path("live-at/", view(self.live_at_view), name="worlds_worldauditlog_live_at"),
            *super().get_urls(),
        ]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return world_permissions.is_auditor(request.user)

    def _require_auditor(self, request: HttpRequest) -> None:
        if not self.has_view_permission(request):
            raise PermissionDenied("The audit pages need the worlds.view_worldauditlog permission.")

    def _page(self, request: HttpRequest, template: str, title: str, **context: Any) -> Any:
        return TemplateResponse(
            request,
            template,
            {**self.admin_site.each_context(request), "opts": self.opts, "title": title, **context},
        )

    def export_view(self, request: HttpRequest, fmt: str) -> HttpResponseBase:
        """The rows the list shows with the same filters and search, oldest first, streamed."""
        self._require_auditor(request)
        if fmt not in EXPORT_FORMATS:
            raise Http404(f"No export format {fmt!r}; there are {', '.join(EXPORT_FORMATS)}.")
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return HttpResponseRedirect(reverse("admin:worlds_worldauditlog_changelist") + "?e=1")
        return export_response(changelist.queryset.order_by("id"), fmt)

    def verify_view(self, request: HttpRequest) -> Any:
        self._require_auditor(request)
        form = VerifyForm(request.GET or None)
        report = scope = None
        if form.is_bound and form.is_valid():
            chosen = form.cleaned_data["world"]
            world_id = {EVERY_WORLD: None, SERVICE_WIDE: ""}.get(chosen, chosen)
            scope = {EVERY_WORLD: "every world", SERVICE_WIDE: "the service-wide rows"}.get(
                chosen, f"world {chosen!r}"
            )
            report = verify_world_chain(world_id)
        return self._page(
            request,
            "admin/worlds/worldauditlog/verify.html",
            "Verify chain",
            form=form,
            report=report,
            scope=scope,
        )

    def live_at_view(self, request: HttpRequest) -> Any:
        self._require_auditor(request)
        form = LiveAtForm(request.GET or None)
        found = None
        if form.is_bound and form.is_valid():
            found = live_at(form.cleaned_data["world"], form.cleaned_data["at"])
        return self._page(
            request,
            "admin/worlds/worldauditlog/live_at.html",
            "What was live at",
            form=form,
            found=found,
            world_id=form.cleaned_data.get("world") if found is not None else None,
        )
