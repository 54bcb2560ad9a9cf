"""Admin for worlds and tokens; the (read-only) audit log's pages are in `worlds.audit_admin`.

Every change made here goes through the same services as the API, so it writes the same audit
rows and events.
"""

from __future__ import annotations

from typing import Any

import django_celery_beat.admin  # noqa: F401 - registers beat's admins, restricted below
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from worlds import audit_admin  # noqa: F401 - registers the audit log's admin
from worlds.models import ApiToken, World, WorldEvent
from worlds.services import tokens as token_services
from worlds.services import worlds as world_services
from worlds.services.worlds import EDITABLE_FIELDS
from worldservice.api.actors import acting_user
from worldservice.readonly_admin import ReadOnlyAdmin
from worldservice.superuser_admin import restrict_to_superusers

admin.site.site_header = "WorldService administration"
admin.site.site_title = "WorldService"
admin.site.index_title = "Worlds, policies and activation"
admin.site.site_url = "/"  # "View site": the landing page (worldservice/pages.py)
restrict_to_superusers(admin.site, "django_celery_beat")


@admin.register(World)
class WorldAdmin(admin.ModelAdmin):
    """Worlds. Members are managed through `/worlds/{id}/members`, whose service keeps the
    last-owner rule and writes `member_changed` audit rows (guardian's generic object-permission
    pages would bypass both, so they are not offered)."""

    list_display = (
        "id",
        "name",
        "state",
        "default_policy_version",
        "allow_live",
        "circuit_breaker",
        "approvals_required",
        "updated_at",
    )
    list_filter = ("state", "allow_live", "circuit_breaker")
    search_fields = ("id", "name", "description")
    readonly_fields = ("owner", "default_policy_version", "revision", "created_at", "updated_at")

    def get_readonly_fields(self, request: HttpRequest, obj: World | None = None) -> Any:
        return (*self.readonly_fields, "id") if obj else self.readonly_fields

    def save_model(self, request: HttpRequest, obj: World, form: Any, change: bool) -> None:
        if change:
            changes = {
                name: form.cleaned_data[name]
                for name in EDITABLE_FIELDS
                if name in form.cleaned_data
            }
            world_services.update_world(
                actor=acting_user(request), world_id=obj.id, changes=changes
            )
        else:
            fields = {
                name: form.cleaned_data[name]
                for name in EDITABLE_FIELDS
                if name in form.cleaned_data
            }
            world_services.create_world(actor=acting_user(request), world_id=obj.id, **fields)

    def delete_model(self, request: HttpRequest, obj: World) -> None:
        world_services.delete_world(actor=acting_user(request), world_id=obj.id)
        messages.info(request, f"World {obj.id} moved to DELETED; its history is kept.")

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[World]) -> None:
        for world in queryset:
            self.delete_model(request, world)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "name", "created_at", "expires_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("prefix", "user__username", "name")
    readonly_fields = ("user", "name", "prefix", "created_at", "expires_at", "revoked_at")
    actions = ("revoke",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # tokens are issued with `manage.py issue_token`, which shows the secret

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoke instead, so the audit trail stays whole

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset:
            token_services.revoke_token(token=token, actor=request.user.get_username())
        messages.success(request, f"Revoked {queryset.count()} token(s).")


@admin.register(WorldEvent)
class WorldEventAdmin(ReadOnlyAdmin):
    list_display = ("id", "world_id", "seq", "type", "created_at", "relayed_at")
    list_filter = ("type",)
    search_fields = ("world_id", "idempotency_key", "correlation_id")
