"""Activation in the admin: read-only snapshots and version counters, and the operators'
activation console (`admin:activation_console`, see `activation.admin_console`)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from activation.admin_console import console_view
from activation.models import ActivationCounter, ActivationSnapshot
from worldservice.readonly_admin import ReadOnlyAdmin

SNAPSHOT_COLUMNS = (
    "strategy_id",
    "side",
    "active",
    "weight",
    "freeze",
    "drain",
    "effective_mode",
    "version",
    "ts",
    "expires_at",
)


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _row(entry: dict[str, Any]) -> str:
    return format_html_join(
        "", "<td>{}</td>", ((_cell(entry.get(name)),) for name in SNAPSHOT_COLUMNS)
    )


@admin.register(ActivationSnapshot)
class ActivationSnapshotAdmin(ReadOnlyAdmin):
    list_display = ("world_id", "version", "reason", "created_at", "state_hash", "size")
    list_filter = ("reason",)
    search_fields = ("=world__id",)
    ordering = ("-created_at",)
    fields = ("world", "version", "reason", "created_at", "state_hash", "entries_table")
    readonly_fields = fields

    @admin.display(description="entries")
    def size(self, snapshot: ActivationSnapshot) -> int:
        return len(snapshot.entries)

    @admin.display(description="entries")
    def entries_table(self, snapshot: ActivationSnapshot) -> str:
        """The stored set as a table rather than raw JSON."""
        if not snapshot.entries:
            return "(empty set)"
        head = format_html_join("", "<th>{}</th>", ((name,) for name in SNAPSHOT_COLUMNS))
        rows = format_html_join("", "<tr>{}</tr>", ((_row(entry),) for entry in snapshot.entries))
        return format_html(
            '<table class="ws-table"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>',
            head,
            rows,
        )


@admin.register(ActivationCounter)
class ActivationCounterAdmin(ReadOnlyAdmin):
    list_display = ("world_id", "version", "updated_at", "console")
    search_fields = ("=world_id",)

    @admin.display(description="activation console")
    def console(self, counter: ActivationCounter) -> str:
        url = reverse("admin:activation_console", args=[counter.world_id])
        return format_html('<a href="{}">open</a>', url)

    def get_urls(self) -> list[Any]:
        return [
            path(
                "console/<str:world_id>/",
                self.admin_site.admin_view(self.console_page),
                name="activation_console",
            ),
            *super().get_urls(),
        ]

    def console_page(self, request: HttpRequest, world_id: str) -> HttpResponse:
        """Not the counter's own page: any world's console, for its operators (and readers)."""
        return console_view(self, request, world_id)
