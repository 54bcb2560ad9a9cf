"""The "Operators" group: the worlds' pages and activation, where they hold the operator role
(docs/admin.md)."""

from django.db import migrations

from worldservice.staff_groups import OPERATORS, ensure_group, remove_group

PERMISSIONS = (
    "worlds.view_world",
    "policies.view_worldpolicy",
    "activation.view_activationsnapshot",
    "activation.view_applyrun",
)


def create(apps, schema_editor):
    ensure_group(apps, OPERATORS, PERMISSIONS)


def remove(apps, schema_editor):
    remove_group(apps, OPERATORS)


class Migration(migrations.Migration):

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("activation", "0001_initial"),
        ("policies", "0008_risk_staff_group"),
    ]

    operations = [migrations.RunPython(create, remove)]
