"""App configurations of the plumbing."""

from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class WorldServiceAdminConfig(AdminConfig):
    """`django.contrib.admin`, with WorldService's admin site as the default site."""

    default_site = "worldservice.admin_site.WorldServiceAdminSite"
