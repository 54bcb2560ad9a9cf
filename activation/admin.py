"""Read-only admin views of activation snapshots and version counters."""

from __future__ import annotations

from django.contrib import admin

from activation.models import ActivationCounter, ActivationSnapshot
from worldservice.readonly_admin import ReadOnlyAdmin


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
