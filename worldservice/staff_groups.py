"""The staff groups of the admin ("Risk staff", "Auditors", "Operators"), made by data migrations.

Each app's migration creates its group with `ensure_group` (see docs/admin.md for what each group
is for). A group grants what a kind of staff member needs to use the admin pages; what they may
do on a given world is still decided by their role on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

RISK_STAFF = "Risk staff"
AUDITORS = "Auditors"
OPERATORS = "Operators"


def create_all_permissions(apps: Any) -> None:
    """Create every model's permissions in the migration's state.

    Django creates permissions after `migrate` (post_migrate); a data migration that grants them
    on a fresh database would find none, so it creates them first.
    """
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        # Migration states hold stubs without a models module, which create_permissions skips.
        app_config.models_module = True
        try:
            create_permissions(app_config, apps=apps, verbosity=0)
        finally:
            app_config.models_module = None


def ensure_group(apps: Any, name: str, permissions: Sequence[str]) -> None:
    """Create the group `name` (or complete it) with `permissions` ("app_label.codename")."""
    create_all_permissions(apps)
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    group, _ = group_model.objects.get_or_create(name=name)
    for dotted in permissions:
        app_label, codename = dotted.split(".")
        group.permissions.add(
            permission_model.objects.get(content_type__app_label=app_label, codename=codename)
        )


def remove_group(apps: Any, name: str) -> None:
    apps.get_model("auth", "Group").objects.filter(name=name).delete()
