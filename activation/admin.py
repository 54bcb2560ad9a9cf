"""Read-only admin views of activation snapshots and version counters."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from activation.models import ActivationCounter, ActivationSnapshot


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ActivationSnapshot)
class ActivationSnapshotAdmin(ReadOnlyAdmin):
    list_display = ("world", "version", "reason", "created_at", "state_hash")
    list_filter = ("reason",)
    search_fields = ("world__id",)
    ordering = ("-created_at",)


@admin.register(ActivationCounter)
class ActivationCounterAdmin(ReadOnlyAdmin):
    list_display = ("world_id", "version", "updated_at")
    search_fields = ("world_id",)
