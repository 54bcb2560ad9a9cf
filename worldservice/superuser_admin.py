"""Admin sections only superusers see: django-celery-beat's schedules, for one.

Beat's periodic tasks are plumbing (docs/operations.md, "Beat schedule"); a staff user who holds
their model permissions through a broad group should still not see or change them.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest


class SuperuserOnlyAdmin:
    """Mixed in front of a ModelAdmin: everyone but active superusers is refused everything."""

    def _superuser(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_superuser)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._superuser(request) and super().has_module_permission(request)  # type: ignore[misc]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._superuser(request) and super().has_view_permission(request, obj)  # type: ignore[misc]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self._superuser(request) and super().has_add_permission(request, *args)  # type: ignore[misc]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._superuser(request) and super().has_change_permission(request, obj)  # type: ignore[misc]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._superuser(request) and super().has_delete_permission(request, obj)  # type: ignore[misc]


def restrict_to_superusers(site: admin.AdminSite, app_label: str) -> None:
    """Re-register every model of `app_label` on `site` with its admin made superuser-only."""
    for model, model_admin in list(site._registry.items()):
        if model._meta.app_label != app_label:
            continue
        base = type(model_admin)
        site.unregister(model)
        site.register(model, type(f"SuperuserOnly{base.__name__}", (SuperuserOnlyAdmin, base), {}))
