"""The admin of governed world changes: the list, and a review page with its buttons.

The review page shows each changed field with its value before and after, the reviews so far,
and **Approve**, **Reject** (each with a comment) and **Withdraw**. Every button calls the same
service as the API (`worlds.services.changes`), so the same rules hold and the same audit rows
and events are written; a refusal comes back as an admin message, never as JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_POST

from worlds import selectors
from worlds.four_eyes import review_refusal
from worlds.models import ReviewDecision, WorldChange, WorldChangeStatus
from worlds.services import changes as change_services
from worldservice.api.actors import acting_user
from worldservice.api.errors import ServiceError

COMMENT_MAX_LENGTH = 10_000
REVIEW_TEMPLATE = "admin/worlds/worldchange/review.html"


def shown(value: Any) -> str:
    """A field value as the API writes it (true, 0, ["a"]), so people read what was sent."""
    return json.dumps(value, ensure_ascii=False)


def change_rows(change: WorldChange) -> list[dict[str, str]]:
    """One row per changed field: its value when requested, the proposed one, and today's."""
    world = change.world
    return [
        {
            "field": name,
            "before": shown(change.previous.get(name)),
            "after": shown(value),
            "now": shown(list(world.labels) if name == "labels" else getattr(world, name)),
        }
        for name, value in change.changes.items()
    ]


def review_blocker(request: HttpRequest, change: WorldChange) -> str | None:
    """Why the signed-in user cannot approve or reject this change, or None when they can."""
    if change.status != WorldChangeStatus.PENDING:
        return f"This change is {change.status}: it can no longer be reviewed."
    refusal = review_refusal(
        request.user,
        change.world_id,
        author_id=change.requested_by_id,
        subject="world changes",
        authored="requested this change",
    )
    if refusal is not None:
        return refusal.detail
    if any(review.user_id == request.user.pk for review in change.approvals.all()):
        return "You already reviewed this change."
    return None


@admin.register(WorldChange)
class WorldChangeAdmin(admin.ModelAdmin):
    """Pending and decided world changes. Nothing is edited here: changes are reviewed."""

    list_display = (
        "id",
        "world",
        "status",
        "changed_fields",
        "requested_by",
        "requested_at",
        "progress",
        "decided_at",
    )
    list_filter = ("status", ("world", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("world", "requested_by")
    search_fields = ("world__id", "requested_by__username")
    ordering = ("-id",)

    # Who sees what is the selector's business (world roles and the approver permission), as in
    # the API; any staff member may open the list, which shows only what they may see.
    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_staff)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a change is requested by editing the world

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a requested change never changes; it is approved, rejected or withdrawn

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[WorldChange]:
        return selectors.visible_world_changes(request.user)

    @admin.display(description="changes")
    def changed_fields(self, obj: WorldChange) -> str:
        return ", ".join(f"{name} → {shown(value)}" for name, value in obj.changes.items())

    @admin.display(description="approvals")
    def progress(self, obj: WorldChange) -> str:
        approvals = sum(1 for r in obj.approvals.all() if r.decision == ReviewDecision.APPROVE)
        return f"{approvals} of {obj.approvals_required}"

    # --- the review page and its buttons ---------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        def view(action: Callable[..., HttpResponse]) -> Any:
            return self.admin_site.admin_view(require_POST(action))

        name = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("<path:object_id>/approve/", view(self.approve_view), name=f"{name}_approve"),
            path("<path:object_id>/reject/", view(self.reject_view), name=f"{name}_reject"),
            path("<path:object_id>/withdraw/", view(self.withdraw_view), name=f"{name}_withdraw"),
            *super().get_urls(),
        ]

    def _visible(self, request: HttpRequest, object_id: str) -> WorldChange | None:
        change = self.get_object(request, object_id)
        if change is None:
            self.message_user(
                request,
                f"There is no world change {object_id!r} that you may see.",
                messages.WARNING,
            )
        return change

    def _changelist(self) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:worlds_worldchange_changelist"))

    def _page(self, change: WorldChange) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:worlds_worldchange_change", args=[change.pk]))

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        change = self._visible(request, object_id)
        if change is None:
            return self._changelist()
        approvals = [r for r in change.approvals.all() if r.decision == ReviewDecision.APPROVE]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"World change #{change.pk} on {change.world_id}",
            "change": change,
            "rows": change_rows(change),
            "reviews": change.approvals.all(),
            "approvals": len(approvals),
            "review_blocker": review_blocker(request, change),
            "may_withdraw": change.status == WorldChangeStatus.PENDING
            and change.requested_by_id == request.user.pk,
            "comment_max_length": COMMENT_MAX_LENGTH,
            **(extra_context or {}),
        }
        return TemplateResponse(request, REVIEW_TEMPLATE, context)

    def _act(
        self, request: HttpRequest, object_id: str, act: Callable[[WorldChange], str]
    ) -> HttpResponse:
        change = self._visible(request, object_id)
        if change is None:
            return self._changelist()
        try:
            done = act(change)
        except ServiceError as exc:
            self.message_user(request, exc.detail, messages.ERROR)
        else:
            self.message_user(request, done, messages.SUCCESS)
        return self._page(change)

    def _review(self, request: HttpRequest, object_id: str, decision: ReviewDecision) -> Any:
        comment = request.POST.get("comment", "").replace("\r\n", "\n")[:COMMENT_MAX_LENGTH]

        def act(change: WorldChange) -> str:
            decided = change_services.review_world_change(
                actor=acting_user(request),
                world_id=change.world_id,
                change_id=change.pk,
                decision=decision,
                comment=comment,
            )
            if decided.status == WorldChangeStatus.APPLIED:
                return f"You approved change #{decided.pk}: it is applied to {decided.world_id}."
            if decided.status == WorldChangeStatus.REJECTED:
                return f"You rejected change #{decided.pk}: it will not be applied."
            return f"You approved change #{decided.pk}; it needs more approvals."

        return self._act(request, object_id, act)

    def approve_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return self._review(request, object_id, ReviewDecision.APPROVE)

    def reject_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return self._review(request, object_id, ReviewDecision.REJECT)

    def withdraw_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        def act(change: WorldChange) -> str:
            change_services.withdraw_world_change(
                actor=acting_user(request), world_id=change.world_id, change_id=change.pk
            )
            return f"You withdrew change #{change.pk}."

        return self._act(request, object_id, act)
