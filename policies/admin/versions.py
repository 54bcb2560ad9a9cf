"""The list of policy versions. Each row leads to the version's review page (`pages.py`), where
reviews and defaults are decided one version at a time; the list has no bulk actions."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern
from django.utils.html import format_html

from policies.admin.pages import VersionPages, review_url
from policies.dsl import parse_policy, summarize_gates
from policies.models import WorldPolicy
from policies.selectors import with_review_counts
from worlds.roles import world_permissions


@admin.register(WorldPolicy)
class WorldPolicyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("version_link", "world", "status", "reviews", "gates", "written")
    list_display_links = None
    list_filter = ("status", ("world", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("world", "created_by")
    search_fields = ("world__id", "yaml")
    ordering = ("world_id", "-version")
    actions = None
    list_per_page = 50

    def get_urls(self) -> list[URLPattern]:
        return [*VersionPages(self).urls(), *super().get_urls()]

    def get_queryset(self, request: HttpRequest) -> QuerySet[WorldPolicy]:
        """Readers see their worlds' versions; approvers also the worlds they review."""
        queryset = with_review_counts(super().get_queryset(request))
        return queryset.filter(world__in=world_permissions.reviewable_world_ids(request.user))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a stored version never changes: write a new one

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # versions are history; another default deprecates one

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            return super().add_view(request, form_url, extra_context)
        return VersionPages(self).choose_world(request)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        policy = self.get_object(request, object_id)
        if policy is None:
            return super().change_view(request, object_id, form_url, extra_context)
        return HttpResponseRedirect(review_url(policy))

    # --- columns -------------------------------------------------------------------------

    @admin.display(description="version", ordering="version")
    def version_link(self, obj: WorldPolicy) -> str:
        return format_html('<a href="{}">v{}</a>', review_url(obj), obj.version)

    @admin.display(description="reviews")
    def reviews(self, obj: WorldPolicy) -> str:
        approvals: int = getattr(obj, "approval_count", 0)
        rejections: int = getattr(obj, "rejection_count", 0)
        text = f"{approvals} of {obj.world.approvals_required}"
        if rejections:
            text += f", {rejections} rejected"
        return text

    @admin.display(description="written", ordering="created_at")
    def written(self, obj: WorldPolicy) -> str:
        return f"{obj.created_by.get_username()}, {obj.created_at:%Y-%m-%d %H:%M} UTC"

    @admin.display(description="gates")
    def gates(self, obj: WorldPolicy) -> str:
        return summarize_gates(parse_policy(obj.document))
