"""Admin for worlds and tokens; the (read-only) audit log's pages are in `worlds.audit_admin`.

Every change made here goes through the same services as the API, so it writes the same audit
rows and events.
"""

from __future__ import annotations

from typing import Any

import django_celery_beat.admin  # noqa: F401 - registers beat's admins, restricted below
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse

from worlds import (
    audit_admin,  # noqa: F401 - registers the audit log's admin
    change_admin,  # noqa: F401 - registers the world change admin
)
from worlds.admin_members import change_members, members_context
from worlds.change_review_items import world_changes_awaiting
from worlds.governance import below_floor, default_approvals, floor_message, min_approvals
from worlds.models import ApiToken, World, WorldChange, WorldEvent
from worlds.roles import world_permissions
from worlds.services import tokens as token_services
from worlds.services import worlds as world_services
from worlds.services.world_writes import EDITABLE_FIELDS
from worldservice.api.actors import acting_user
from worldservice.api.errors import ServiceError
from worldservice.readonly_admin import ReadOnlyAdmin
from worldservice.review_queue import review_sources
from worldservice.superuser_admin import restrict_to_superusers

review_sources.register(world_changes_awaiting)
restrict_to_superusers(admin.site, "django_celery_beat")

# The world change a save was held as, for the response that follows it in the same request.
PENDING_CHANGE_ATTRIBUTE = "pending_world_change"


class WorldForm(forms.ModelForm):
    """The world form, with the deployment's floor under `approvals_required` (see
    `worlds.governance`) checked here so it shows beside the field."""

    class Meta:
        model = World
        fields = ("id", *EDITABLE_FIELDS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance._state.adding and "approvals_required" in self.fields:
            self.fields["approvals_required"].initial = default_approvals()

    def clean_approvals_required(self) -> int:
        value: int = self.cleaned_data["approvals_required"]
        current = None if self.instance._state.adding else self.instance.approvals_required
        if below_floor(value, current=current):
            raise forms.ValidationError(floor_message(min_approvals()))
        return value


@admin.register(World)
class WorldAdmin(admin.ModelAdmin):
    """Worlds. Each person sees the worlds they hold a role on; only owners change one.

    The world's page links everything about it (`templates/admin/worlds/world/change_form.html`)
    and manages its members through the members service (`worlds/admin_members.py`), which keeps
    the last-owner rule and writes `member_changed` audit rows (guardian's generic
    object-permission pages would bypass both, so they are not offered).

    Saving the form calls the same service as the API's PUT: editing a world needs its owner
    role, and a save that loosens the governance of a world requiring approvals becomes a
    pending world change, to which the admin then goes (see docs/api.md).
    """

    form = WorldForm
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

    # --- per-world roles decide ------------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet[World]:
        return world_permissions.visible_worlds(request.user, super().get_queryset(request))

    def has_view_permission(self, request: HttpRequest, obj: World | None = None) -> bool:
        return world_permissions.admin_may_view(request.user, obj)

    def has_change_permission(self, request: HttpRequest, obj: World | None = None) -> bool:
        if obj is None:  # "may change some world": each world's page asks again, with the world
            return world_permissions.opens_world_pages(request.user) and self._owns_any(request)
        return world_permissions.admin_may_change(request.user, obj)

    def _owns_any(self, request: HttpRequest) -> bool:
        owns: bool | None = getattr(request, "_owns_a_world", None)
        if owns is None:
            owns = world_permissions.owned_worlds(request.user).exists()
            setattr(request, "_owns_a_world", owns)  # noqa: B010 - asked several times a page
        return owns

    def has_delete_permission(self, request: HttpRequest, obj: World | None = None) -> bool:
        if obj is None:
            return world_permissions.may_delete_in_bulk(request.user)
        return self.has_change_permission(request, obj)

    # --- the world's page: links and members -------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        members = path(
            "<path:object_id>/members/",
            self.admin_site.admin_view(self.members_view),
            name="worlds_world_members",
        )
        return [members, *super().get_urls()]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        world = self.get_object(request, unquote(object_id))
        if world is not None and self.has_view_permission(request, world):
            extra_context = {**(extra_context or {}), **members_context(request, world)}
        return super().change_view(request, object_id, form_url, extra_context)

    def members_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        world = self.get_object(request, unquote(object_id))
        if world is None or not self.has_view_permission(request, world):
            messages.error(request, f"World {unquote(object_id)!r} does not exist.")
            return HttpResponseRedirect(reverse("admin:worlds_world_changelist"))
        return change_members(request, world)

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> Any:
        # A service refusal (a race the form could not see) is an admin message, not an error
        # page; the admin's transaction has rolled back by the time it arrives here.
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceError as exc:
            self.message_user(request, exc.detail, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request: HttpRequest, obj: World, form: Any, change: bool) -> None:
        fields = {
            name: form.cleaned_data[name] for name in EDITABLE_FIELDS if name in form.cleaned_data
        }
        if not change:
            world_services.create_world(actor=acting_user(request), world_id=obj.id, **fields)
            return
        outcome = world_services.update_world(
            actor=acting_user(request), world_id=obj.id, changes=fields
        )
        setattr(request, PENDING_CHANGE_ATTRIBUTE, outcome.pending)

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        pending: WorldChange | None = getattr(request, PENDING_CHANGE_ATTRIBUTE, None)
        if pending is not None:
            message = f"Requested world change #{pending.pk}, pending review."
        return super().log_change(request, obj, message)

    def response_change(self, request: HttpRequest, obj: World) -> HttpResponse:
        pending: WorldChange | None = getattr(request, PENDING_CHANGE_ATTRIBUTE, None)
        if pending is None:
            return super().response_change(request, obj)
        self.message_user(
            request,
            f"Not saved yet: this change loosens the governance of world {obj.id}, which needs "
            f"{pending.approvals_required} approval(s) from someone else. It is pending as "
            f"change #{pending.pk}; nothing on the world has changed.",
            messages.WARNING,
        )
        return HttpResponseRedirect(reverse("admin:worlds_worldchange_change", args=[pending.pk]))

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
