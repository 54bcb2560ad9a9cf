"""The admin site: Django's, with "Awaiting my review" and the way in on its home page.

It is the default site (`worldservice.apps.WorldServiceAdminConfig`), so every
`admin.register(...)` lands here. What awaits a reviewer comes from the review sources apps
register (`worldservice.review_queue`).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.paginator import Paginator
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import URLPattern, URLResolver, path

from worldservice.review_queue import review_sources

#: How many items the home page lists before it links to the whole list.
HOME_REVIEW_ITEMS = 10
#: How many items one page of the whole list shows.
REVIEW_ITEMS_PER_PAGE = 100


class WorldServiceAdminSite(admin.AdminSite):
    site_header = "WorldService administration"
    site_title = "WorldService"
    index_title = "Worlds, policies and activation"

    def get_urls(self) -> list[URLPattern | URLResolver]:
        return [
            path(
                "awaiting-review/",
                self.admin_view(self.awaiting_review_view),
                name="awaiting_review",
            ),
            *super().get_urls(),
        ]

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        items = review_sources.awaiting(request.user)
        context = {
            "review_items": items[:HOME_REVIEW_ITEMS],
            "review_count": len(items),
            **(extra_context or {}),
        }
        return super().index(request, context)

    def awaiting_review_view(self, request: HttpRequest) -> TemplateResponse:
        items = review_sources.awaiting(request.user)
        page = Paginator(items, REVIEW_ITEMS_PER_PAGE).get_page(request.GET.get("page"))
        context = {
            **self.each_context(request),
            "title": "Awaiting my review",
            "review_items": page.object_list,
            "review_page": page,
            "review_count": len(items),
        }
        return TemplateResponse(request, "admin/awaiting_review.html", context)
